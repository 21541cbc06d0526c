// The full names of these types are written into dead letters (dlq.error.type) and read by
// replay tools and operators: they stay in this namespace whatever folder holds them.
namespace Orders.Processor;

/// <summary>A well-formed order that breaks a domain rule.</summary>
public sealed class InvalidOrderException(string message) : Exception(message);

/// <summary>The registry rejects the configured credentials (401/403): no retry can fix that, so the processor stops.</summary>
public sealed class RegistryCredentialsException(Exception inner) : Exception($"the Schema Registry rejected the credentials: {inner.Message}", inner);

/// <summary>With <c>--until-idle</c>, the processor stopped without doing its job: no assignment, or no registry.</summary>
public sealed class ProcessorGaveUpException(string message) : Exception(message);

/// <summary>A failure the simulated downstream injects (<c>--fail-ratio</c>).</summary>
public sealed class SimulatedTransientException(string message) : Exception(message);
