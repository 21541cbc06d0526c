using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orders.Contracts;
using Orders.Decoding;
using Orders.Processor.Checkpoints;
using Orders.Processor.Hosting;
using Orders.Processor.Loop;
using Orders.Processor.Observability;
using Orders.Processor.Records;
using Orders.Producer;

namespace Orders.Processor.UnitTests.Fakes;

/// <summary>
/// The real loop and all its real pieces, wired by <see cref="LoopParts.Create"/> as a run wires them,
/// over fake ports (consumer, producer, stored state), a fake registry and a fake clock.
/// </summary>
public sealed class LoopHarness
{
    private RecordingLoggers? _loggers;

    public const string Topic = "orders";
    public const string Group = "g";

    /// <param name="handlerFor">A handler built on the harness's clock (one that waits, say).</param>
    /// <param name="wallClock">The processor's clock is <see cref="WallClock"/>, whose wall time the test steps, instead of <see cref="Time"/>.</param>
    public LoopHarness(
        Action<ProcessorOptions>? configure = null, IOrderHandler? handler = null, int partitions = 3, int deadLetterPartitions = 3, Func<TimeProvider, IOrderHandler>? handlerFor = null,
        bool wallClock = false)
    {
        WallClock = new SteppedWallClock(Time);
        Options = new ProcessorOptions
        {
            Topic = Topic,
            GroupId = Group,
            UntilIdle = TimeSpan.FromSeconds(2),
            FirstAssignmentWait = TimeSpan.FromSeconds(10),
            CheckpointInterval = TimeSpan.FromSeconds(1),
            RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            RetryMaxDelay = TimeSpan.FromMilliseconds(400),
            CloseTimeout = TimeSpan.FromSeconds(5),
            // A restore's read (instant here) is waited for to its end, however busy the machine running the tests:
            // a test of a read that outlasts the wait shortens it.
            RestoreWait = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(Options);
        Consumer = new FakeConsumer(Time, Topic);
        Producer = new FakeProducer(Time);
        Stored = new FakeStateSource(Consumer);
        (RegistryClient, Registry) = FakeRegistry.Create();
        Status = new ProcessorStatus(Topic, readCommitted: false);
        Handler = handler ?? handlerFor?.Invoke(Time) ?? new SimulatedDownstream(0, LatencyRange.None, new Random(1), Time);
        Layout = new TopicLayout(Topic, partitions, Topics.DeadLetterFor(Topic), deadLetterPartitions, Topics.StatsFor(Topic), partitions);
        Stored.DeadLetterPartitionFor = Layout.DeadLetterPartitionFor;
        Parts = LoopParts.Create(
            new ProcessorServices(Options, new OrderDecoder(RegistryClient), Handler, new CheckpointSerde(RegistryClient), Status, wallClock ? WallClock : Time, Loggers),
            Layout,
            new ProcessorPorts(Consumer, Producer, Stored, Stored),
            Fatal,
            _stopping.Token);
        Loop = new ConsumeLoop(Parts);
    }

    private readonly CancellationTokenSource _stopping = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));

    /// <summary><see cref="Time"/> with a wall clock the test can step; the processor's clock when the harness was made with <c>wallClock: true</c>.</summary>
    public SteppedWallClock WallClock { get; }

    public ProcessorOptions Options { get; }

    public FakeConsumer Consumer { get; }

    public FakeProducer Producer { get; }

    public FakeStateSource Stored { get; }

    public Confluent.SchemaRegistry.ISchemaRegistryClient RegistryClient { get; }

    public FakeRegistry Registry { get; }

    public ProcessorStatus Status { get; }

    public ProcessorCounters Counters => Status.Counters;

    public IOrderHandler Handler { get; }

    public TopicLayout Layout { get; }

    public FatalSignal Fatal { get; } = new();

    public RecordingLogger Logs { get; } = new();

    /// <summary>The loggers the run's pieces asked for, by category.</summary>
    public RecordingLoggers Loggers => _loggers ??= new RecordingLoggers(Logs);

    public LoopParts Parts { get; }

    public ConsumeLoop Loop { get; }

    public static Message<byte[]?, byte[]?> Order(double price, string product = "mug", string? key = null, DateTimeOffset? createdAt = null)
    {
        var order = new Order
        {
            OrderId = key ?? Guid.NewGuid().ToString(),
            Product = product,
            Price = price,
            CustomerId = "c1",
            Quantity = 1,
            Currency = "EUR",
            CreatedAt = (createdAt ?? new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero)).UtcDateTime,
            Channel = "web",
        };
        return new Message<byte[]?, byte[]?>
        {
            Key = Encoding.UTF8.GetBytes(order.OrderId),
            Value = OrderSerializer.ToArray(order, schemaId: 1),
            Timestamp = new Timestamp(order.CreatedAt, TimestampType.CreateTime),
            Headers = [],
        };
    }

    public static Message<byte[]?, byte[]?> Poison() => new() { Key = null, Value = [0x7f, 1, 2, 3], Timestamp = Timestamp.Default, Headers = [] };

    /// <summary>Runs <paramref name="action"/> once, on the loop's thread before a poll, as soon as <paramref name="condition"/> holds.</summary>
    public void When(Func<bool> condition, Action action)
    {
        var previous = Consumer.BeforePoll;
        var done = false;
        Consumer.BeforePoll = () =>
        {
            previous?.Invoke();
            if (!done && condition())
            {
                done = true;
                action();
            }
        };
    }

    /// <summary>Runs the loop until it stops by itself (idle, a fatal error).</summary>
    public async Task<ProcessorSummary> RunAsync(CancellationToken cancellationToken = default)
    {
        // The run's stop reaches the parts built before it (a restore waiting for a broker), as the worker's does.
        using var stop = cancellationToken.Register(_stopping.Cancel);
        return await Loop.RunAsync(cancellationToken);
    }

    public IReadOnlyList<Message<byte[]?, byte[]?>> DeadLetters => [.. Producer.To(Layout.DeadLetterTopic)];

    public IReadOnlyList<Message<byte[]?, byte[]?>> Checkpoints => [.. Producer.To(Layout.StatsTopic)];

    public static string? Header(Message<byte[]?, byte[]?> message, string key) =>
        message.Headers.TryGetLastBytes(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}

/// <summary>A logger that keeps every line, for tests that check what was said (and that it was said once).</summary>
public sealed class RecordingLogger : ILogger
{
    private readonly List<(LogLevel Level, EventId Id, string Text)> _lines = [];

    public IReadOnlyList<(LogLevel Level, EventId Id, string Text)> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public int Count(int eventId) => Lines.Count(l => l.Id.Id == eventId);

    /// <summary>Called with each line's event id as it is logged, on the logging thread (after it is recorded).</summary>
    public Action<int>? OnLog { get; set; }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add((logLevel, eventId, formatter(state, exception)));
        }

        OnLog?.Invoke(eventId.Id);
    }
}

/// <summary>Every logger it creates writes to one <see cref="RecordingLogger"/>, whatever its category; the categories are kept.</summary>
public sealed class RecordingLoggers(RecordingLogger logs) : ILoggerFactory
{
    private readonly List<string> _categories = [];

    public IReadOnlyList<string> Categories
    {
        get
        {
            lock (_categories)
            {
                return [.. _categories];
            }
        }
    }

    public ILogger CreateLogger(string categoryName)
    {
        lock (_categories)
        {
            _categories.Add(categoryName);
        }

        return logs;
    }

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }
}
