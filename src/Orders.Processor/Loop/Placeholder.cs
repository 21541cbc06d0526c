namespace Orders.Processor.Loop;

internal static class LoopPlaceholder;
