namespace Orders.Processor.Observability;

/// <summary>One histogram measurement on its way through the <see cref="MeasurementRelay{T}"/>: two numbers and the series that says what they are (<see cref="ProcessorMetrics"/>).</summary>
internal readonly record struct PendingMeasurement(long From, long To, int Series);
