using System.Diagnostics;
using System.Text.Json;
using Orders.SchemaRegistry.Storage;

namespace Orders.IntegrationTests;

/// <summary>
/// The acceptance criteria of the hostile-schema issue, over HTTP: a DAG of shared named types
/// and a 100,000-symbol enum are judged in seconds, reads of schemas by id do not wait for any
/// check, and a check whose client has gone stops. The time bounds are generous by orders of
/// magnitude, against the exponential (DAG depth 22: hours) and quadratic (enum: 13-17 s)
/// behaviour of the earlier registry; they are not performance measurements.
/// </summary>
public sealed class RegistryHostileSchemaTests(RegistryTestServer server) : IClassFixture<RegistryTestServer>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DagOfDepth22_IsRegisteredAndCheckedInUnder5s_WhileReadsByIdAnswerInUnder1s()
    {
        var subject = $"dag-{Guid.NewGuid():N}";
        var v1 = await server.PostSchemaAsync($"subjects/{subject}/versions", RegistryHostileSchemas.Dag(22), Cancellation);
        var id = JsonDocument.Parse(v1.Body).RootElement.GetProperty("id").GetInt32();

        var judging = Task.Run(async () => new[]
        {
            await server.PostSchemaAsync($"subjects/{subject}/versions", RegistryHostileSchemas.Dag(22, "long"), Cancellation),
            await server.PostSchemaAsync($"compatibility/subjects/{subject}/versions/latest?verbose=true", RegistryHostileSchemas.Dag(22), Cancellation),
        }, Cancellation);
        var reads = await ReadByIdUntilAsync(id, judging);
        var (register, check) = ((await judging)[0], (await judging)[1]);

        Assert.True(register.Code == 200, $"register: {register}");
        Assert.True(check.Code == 200, $"check: {check}");
        Assert.False(JsonDocument.Parse(check.Body).RootElement.GetProperty("is_compatible").GetBoolean());
        Assert.InRange(register.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.InRange(check.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.All(reads, r => Assert.InRange(r, TimeSpan.Zero, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task CheckSpendingItsWholeBudget_IsRefusedWith42201_WhileReadsByIdAnswerInUnder1s()
    {
        var subject = $"budget-{Guid.NewGuid():N}";
        var v1 = await server.PostSchemaAsync($"subjects/{subject}/versions", RegistryHostileSchemas.SameNameUnion(3000, reader: false), Cancellation);
        var id = JsonDocument.Parse(v1.Body).RootElement.GetProperty("id").GetInt32();

        var judging = server.PostSchemaAsync($"subjects/{subject}/versions", RegistryHostileSchemas.SameNameUnion(3000, reader: true), Cancellation);
        var reads = await ReadByIdUntilAsync(id, judging);
        var refused = await judging;

        Assert.True(refused.Code == 422, refused.ToString());
        Assert.Equal(42201, refused.ErrorCode());
        Assert.InRange(refused.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.All(reads, r => Assert.InRange(r, TimeSpan.Zero, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task EnumOf100000Symbols_IsRegisteredAndCheckedInUnder2s()
    {
        var subject = $"enum-{Guid.NewGuid():N}";

        var v1 = await server.PostSchemaAsync($"subjects/{subject}/versions", RegistryHostileSchemas.Enum(100_000), Cancellation);
        var v2 = await server.PostSchemaAsync($"subjects/{subject}/versions", RegistryHostileSchemas.Enum(100_000, ",\"Added\""), Cancellation);
        var check = await server.PostSchemaAsync($"compatibility/subjects/{subject}/versions/1", RegistryHostileSchemas.Enum(99_999), Cancellation);

        Assert.Equal([200, 200, 200], new[] { v1.Code, v2.Code, check.Code });
        Assert.False(JsonDocument.Parse(check.Body).RootElement.GetProperty("is_compatible").GetBoolean());
        Assert.All(new[] { v1, v2, check }, a => Assert.InRange(a.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task CheckWhoseClientCloses_Stops()
    {
        // A budget without end: this check would run for tens of seconds (16 million pairs).
        await using var unbounded = await RegistryTestServer.StartAsync(new SchemaStore(workBudget: long.MaxValue));
        var subject = $"abandoned-{Guid.NewGuid():N}";
        await unbounded.PostSchemaAsync($"subjects/{subject}/versions", RegistryHostileSchemas.SameNameUnion(4000, reader: false), Cancellation);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        giveUp.CancelAfter(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            unbounded.PostSchemaAsync($"compatibility/subjects/{subject}/versions/latest", RegistryHostileSchemas.SameNameUnion(4000, reader: true), giveUp.Token));
        var stopped = await unbounded.Logs.WaitForAsync(e => e.Message.Contains("the client closed the connection", StringComparison.Ordinal), TimeSpan.FromSeconds(10));

        Assert.Contains($"/compatibility/subjects/{subject}/versions/latest", stopped.Message, StringComparison.Ordinal);
        Assert.Empty(unbounded.WarningsSince(0));
    }

    /// <summary>Reads a schema by id, one request after another, until <paramref name="until"/> is done (at least once).</summary>
    /// <returns>How long each read took.</returns>
    private async Task<List<TimeSpan>> ReadByIdUntilAsync(int id, Task until)
    {
        var took = new List<TimeSpan>();
        do
        {
            var watch = Stopwatch.StartNew();
            var read = await server.SendAsync(HttpMethod.Get, $"schemas/ids/{id}", (byte[]?)null, Cancellation);
            took.Add(watch.Elapsed);
            Assert.True(read.Code == 200, read.ToString());
        }
        while (!until.IsCompleted);

        return took;
    }
}
