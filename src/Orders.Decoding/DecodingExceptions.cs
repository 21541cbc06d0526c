// The full names of these types are written into dead letters (dlq.error.type) and read by replay
// tools and operators: they keep the processor's namespace, whichever assembly holds them.
namespace Orders.Processor;

/// <summary>Bytes that can never become an order: bad magic byte, unknown schema id, undecodable Avro.</summary>
public sealed class PoisonRecordException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The registry could not be asked (refused, timed out, 5xx): not the record's fault.</summary>
public sealed class RegistryUnavailableException(string message, Exception inner) : Exception(message, inner);
