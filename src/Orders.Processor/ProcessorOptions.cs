using Orders.Contracts;

namespace Orders.Processor;

public sealed class ProcessorOptions
{
    public const string DefaultGroup = "order-processor";

    public string Topic { get; set; } = Topics.Orders;

    public string DeadLetterTopic => Topics.DeadLetterFor(Topic);

    public string GroupId { get; set; } = DefaultGroup;

    /// <summary>Attempts for a transiently failing record before it is dead-lettered (1 = no retry).</summary>
    public int MaxAttempts { get; set; } = 3;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Stop after this long without any record; null runs until cancelled.</summary>
    public TimeSpan? UntilIdle { get; set; }

    /// <summary>Share of handler calls that fail transiently, to exercise retries (0 to 1).</summary>
    public double FailRatio { get; set; }

    public int Seed { get; set; } = 42;

    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(5);
}
