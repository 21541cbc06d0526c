namespace Orders.Processor.Failures;

public enum FailureKind
{
    /// <summary>Dead-letter at once, no retry.</summary>
    Poison,

    /// <summary>Dead-letter at once, no retry.</summary>
    Invalid,

    /// <summary>Wait and retry for as long as it takes; never dead-letter.</summary>
    RegistryUnavailable,

    /// <summary>Retry with backoff up to the attempt limit, then dead-letter.</summary>
    Transient,
}

public static class FailureClassifier
{
    public static FailureKind Classify(Exception exception) => exception switch
    {
        PoisonRecordException => FailureKind.Poison,
        InvalidOrderException => FailureKind.Invalid,
        RegistryUnavailableException => FailureKind.RegistryUnavailable,
        _ => FailureKind.Transient,
    };
}
