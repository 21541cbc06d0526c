using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Orders.Cli.Commands;
using Orders.Cli.Output;
using Orders.Cli.Settings;
using Orders.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Orders.IntegrationTests;

/// <summary>The processor's HTTP endpoint on the local stack: /metrics against the run's own summary, and the dashboard in a browser.</summary>
[Collection(StackCollection.Name)]
public sealed class MonitoringTests(StackFixture stack)
{
    private static readonly string[] Reasons = ["poison", "invalid", "retries-exhausted"];

    [Fact]
    public async Task Metrics_AfterAKnownRun_AreParsedAsPrometheusText_AndAgreeWithTheSummary()
    {
        var topic = stack.CreateOrderTopics("metrics");
        var produced = await OrdersCommand.RunJsonAsync(["produce", .. OrdersCommand.Endpoints(stack, topic), "--count", "300", "--invalid-ratio", "0.1", "--seed", "7"]);
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(stack.ProducerConfig()).Build())
        {
            // Not the wire format: poison.
            await producer.ProduceAsync(topic, new Message<byte[]?, byte[]?> { Value = [0x42, 1, 2, 3] }, TestContext.Current.CancellationToken);
        }

        await using var run = await ProcessorRun.StartAsync(stack.BootstrapServers, stack.RegistryUrl, topic, new Dictionary<string, string?>
        {
            ["Processor:UntilIdle"] = "00:00:03",
            ["Processor:FailRatio"] = "0.3",
            ["Processor:RetryBaseDelay"] = "00:00:00.010",
            ["Processor:Seed"] = "5",
        });
        var summary = JsonDocument.Parse(Summaries.ToJson(await run.Completion.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken))).RootElement;
        // Other tests run processors in this process too, and OpenTelemetry listens to meters by name: this run's series are those of its topic.
        var metrics = PrometheusText.Parse(await run.Http.GetStringAsync("/metrics", TestContext.Current.CancellationToken)).Only("messaging_destination_name", topic);

        // The run is what was planned: every record settled, every outcome present.
        var processed = summary.GetProperty("processed").GetInt64();
        var deadLettered = summary.GetProperty("deadLettered");
        Assert.Equal(produced.GetProperty("produced").GetInt64() + 1, processed + deadLettered.GetProperty("total").GetInt64());
        Assert.Equal(1, deadLettered.GetProperty("poison").GetInt64());
        Assert.Equal(produced.GetProperty("invalid").GetInt64(), deadLettered.GetProperty("invalid").GetInt64());
        Assert.True(summary.GetProperty("retried").GetInt64() > 0);

        // Counters: the summary's figures, under OpenTelemetry's names where they apply.
        AssertCounter(metrics, "orders_processed_total", processed);
        AssertCounter(metrics, "orders_retries_total", summary.GetProperty("retried").GetInt64());
        AssertCounter(metrics, "orders_registry_waits_total", summary.GetProperty("registryWaits").GetInt64());
        AssertCounter(metrics, "orders_dead_letters_honoured_total", summary.GetProperty("honoured").GetInt64());
        AssertCounter(metrics, "orders_dead_letters_write_failures_total", summary.GetProperty("deadLetterWriteFailures").GetInt64());
        AssertCounter(metrics, "orders_skipped_by_retention_total", summary.GetProperty("skippedByRetention").GetInt64());
        AssertCounter(metrics, "orders_checkpoints_written_total", summary.GetProperty("checkpoints").GetProperty("written").GetInt64());
        AssertCounter(metrics, "orders_checkpoints_restored_total", summary.GetProperty("checkpoints").GetProperty("restored").GetInt64());
        AssertCounter(metrics, "orders_checkpoints_failed_total", summary.GetProperty("checkpoints").GetProperty("failed").GetInt64());
        Assert.Equal("counter", metrics.Family("orders_dead_letters_total").Type);
        foreach (var reason in Reasons)
        {
            Assert.Equal(deadLettered.GetProperty(reason).GetInt64(), metrics.Value("orders_dead_letters_total", ("orders_dead_letter_reason", reason)));
        }

        var deliveries = processed + summary.GetProperty("retried").GetInt64() + summary.GetProperty("registryWaits").GetInt64()
            + deadLettered.GetProperty("total").GetInt64() + summary.GetProperty("honoured").GetInt64();
        AssertCounter(metrics, "messaging_client_consumed_messages_total", deliveries);
        var consumed = Assert.Single(metrics.Family("messaging_client_consumed_messages_total").Samples);
        Assert.True(consumed.Has("messaging_system", "kafka") && consumed.Has("messaging_destination_name", topic) && consumed.Has("messaging_operation_name", "poll"));

        // The running averages, per currency: the state held at the end.
        var currencies = summary.GetProperty("currencies").EnumerateObject().ToList();
        Assert.True(currencies.Count >= 2, "the generator writes several currencies");
        Assert.Equal(currencies.Select(c => c.Name).Order(), metrics.Family("orders_average_price").Samples.Select(s => s.Labels["orders_currency"]).Order());
        foreach (var currency in currencies)
        {
            var figures = currency.Value;
            var label = ("orders_currency", currency.Name);
            Assert.Equal(figures.GetProperty("count").GetInt64(), metrics.Value("orders_average_orders", label));
            Assert.Equal(figures.GetProperty("price").GetProperty("mean").GetDouble(), metrics.Value("orders_average_price", label), 9);
            Assert.Equal(Sum(figures.GetProperty("price")), metrics.Value("orders_average_sum_of_prices", label), 6);
            Assert.Equal(figures.GetProperty("orderValue").GetProperty("mean").GetDouble(), metrics.Value("orders_average_order_value", label), 9);
            Assert.Equal(Sum(figures.GetProperty("orderValue")), metrics.Value("orders_average_sum_of_order_values", label), 6);
            var products = figures.GetProperty("products").EnumerateObject().ToList();
            Assert.Equal(
                products.Select(p => p.Name).Order(),
                metrics.Family("orders_product_average_price").Samples.Where(s => s.Has("orders_currency", currency.Name)).Select(s => s.Labels["orders_product"]).Order());
            foreach (var product in products)
            {
                var labels = new[] { label, ("orders_product", product.Name) };
                Assert.Equal(product.Value.GetProperty("price").GetProperty("mean").GetDouble(), metrics.Value("orders_product_average_price", labels), 9);
                Assert.Equal(product.Value.GetProperty("orderValue").GetProperty("mean").GetDouble(), metrics.Value("orders_product_average_order_value", labels), 9);
                Assert.Equal(product.Value.GetProperty("count").GetInt64(), metrics.Value("orders_product_average_orders", labels));
            }
        }

        // Lag per partition held, from librdkafka's statistics: everything was read.
        var partitions = summary.GetProperty("partitions").EnumerateObject().Select(p => p.Name).ToList();
        AssertGauge(metrics, "orders_partitions_assigned", partitions.Count);
        Assert.Equal(partitions.Order(), metrics.Family("orders_consumer_lag").Samples.Select(s => s.Labels["messaging_destination_partition_id"]).Order());
        Assert.All(metrics.Family("orders_consumer_lag").Samples, s => Assert.Equal(0, s.Value));

        // Histograms: one processing time per attempt, by outcome; one end-to-end latency per order processed.
        Assert.Equal("histogram", metrics.Family("messaging_process_duration_seconds").Type);
        var durations = metrics.Family("messaging_process_duration_seconds").Samples.Where(s => s.Name.EndsWith("_count", StringComparison.Ordinal)).ToList();
        Assert.Equal(processed, durations.Single(s => !s.Labels.ContainsKey("error_type")).Value);
        Assert.Equal(deadLettered.GetProperty("invalid").GetInt64(), durations.Single(s => s.Has("error_type", "invalid")).Value);
        Assert.Equal(1, durations.Single(s => s.Has("error_type", "poison")).Value);
        Assert.Equal(
            summary.GetProperty("retried").GetInt64() + deadLettered.GetProperty("retries-exhausted").GetInt64(),
            durations.Single(s => s.Has("error_type", "transient")).Value);
        Assert.Equal("histogram", metrics.Family("orders_end_to_end_duration_seconds").Type);
        Assert.Equal(processed, metrics.Value("orders_end_to_end_duration_seconds_count"));
        Assert.True(metrics.Value("orders_end_to_end_duration_seconds_sum") > 0);

        // The same scrape negotiated as Prometheus asks for it, OpenMetrics and gzip: served plain, the
        // histograms (kept by the processor, not the SDK) inside the exposition, before its one # EOF.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0");
        request.Headers.AcceptEncoding.ParseAdd("gzip");
        using var response = await run.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var openMetrics = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal("application/openmetrics-text", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(openMetrics.Length, response.Content.Headers.ContentLength);
        Assert.EndsWith("\n# EOF\n", openMetrics, StringComparison.Ordinal);
        Assert.Equal(openMetrics.Length - "# EOF\n".Length, openMetrics.IndexOf("# EOF", StringComparison.Ordinal));
        Assert.Contains("# UNIT orders_end_to_end_duration_seconds seconds\n", openMetrics, StringComparison.Ordinal);
        // The scrape's target names the part, as its traces do (it was "unknown_service:orders").
        Assert.Matches("\ntarget_info\\{[^}]*service_name=\"orders-processor\"", openMetrics);
        Assert.Matches(
            $"\\norders_end_to_end_duration_seconds_count\\{{otel_scope_name=\"Orders\\.Processor\",messaging_consumer_group_name=\"[^\"]+\",messaging_destination_name=\"{Regex.Escape(topic)}\",messaging_system=\"kafka\"\\}} {processed}\\n",
            openMetrics);
    }

    [Fact]
    public async Task Dashboard_DuringARun_ShowsTheProcessorsNumbers_AndAChartWithPoints()
    {
        var chromium = ExternalTool.RequireChromium();
        var topic = stack.CreateOrderTopics("dashboard");
        await using var run = await ProcessorRun.StartAsync(stack.BootstrapServers, stack.RegistryUrl, topic);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
        // A phone's screen.
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, DeviceScaleFactor = 2 });
        var pageErrors = new List<string>();
        page.PageError += (_, error) => pageErrors.Add(error);
        var timeout = new LocatorAssertionsToHaveTextOptions { Timeout = 20_000 };
        await page.GotoAsync(run.Address.ToString());

        // Before any order: an honest empty state, not zeros dressed up as data.
        await Expect(page.Locator("#status")).ToHaveTextAsync("processing", timeout);
        await Expect(page.Locator("#processed")).ToHaveTextAsync("0", timeout);
        await Expect(page.Locator("#mean")).ToHaveTextAsync("—");
        await Expect(page.Locator("#chart .empty")).ToContainTextAsync("No orders yet");
        await Expect(page.Locator("#products tbody")).ToHaveTextAsync("No orders yet.");

        var produced = await OrdersCommand.RunJsonAsync(["produce", .. OrdersCommand.Endpoints(stack, topic), "--count", "200", "--invalid-ratio", "0.1", "--seed", "11"]);
        var view = await SettledAsync(run, produced.GetProperty("produced").GetInt64());

        // Every amount is of one currency; the page starts on the currency with most orders.
        var byCount = view.Aggregates.Currencies.OrderByDescending(c => c.Value.Overall.Count).ThenBy(c => c.Key, StringComparer.Ordinal).ToList();
        Assert.True(byCount.Count >= 2, "the generator writes several currencies");
        // The processor's counters as they are when the page is read: they count work done, so a
        // partition lost under load and read again from its checkpoint counts its records again
        // (the averages stay exact); the failure says whether that happened.
        var counters = run.Processor.Counters;
        await ShowsCurrentlyAsync(page, "#processed", () => counters.Processed, counters);
        await ShowsCurrentlyAsync(page, "#dead-total", () => counters.DeadLetteredByReason.Values.Sum(), counters);
        await ShowsCurrentlyAsync(page, "#retries", () => counters.Retried, counters);
        await Expect(page.Locator("#currencies .card")).ToHaveCountAsync(byCount.Count, new LocatorAssertionsToHaveCountOptions { Timeout = 20_000 });
        foreach (var (currency, data) in byCount)
        {
            await Expect(page.Locator($"#currencies .card[data-currency='{currency}'] .value")).ToHaveTextAsync(Money(data.Overall.Price.Mean!.Value), timeout);
        }

        await AssertCurrencyShownAsync(page, byCount[0].Key, byCount[0].Value, timeout);
        // Choosing another currency switches the headline, the products and the chart to it.
        await page.SelectOptionAsync("#currency", byCount[^1].Key);
        await AssertCurrencyShownAsync(page, byCount[^1].Key, byCount[^1].Value, timeout);

        foreach (var (partition, state) in view.Partitions)
        {
            var row = page.Locator($"#partitions tr[data-partition='{partition}']");
            await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync(Count(state.NextOffset), timeout);
            // Lag from librdkafka's statistics (once a second): all read.
            await Expect(row.Locator("td").Nth(4)).ToHaveTextAsync("0", timeout);
        }

        await Expect(page.Locator("#dead-letters li").First).ToContainTextAsync("invalid");

        // Readable on the phone: nothing wider than the screen.
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways on a phone");
        Assert.True(
            await page.EvaluateAsync<bool>("[...document.querySelectorAll('.table-wrap')].every(t => t.scrollWidth <= t.clientWidth)"),
            "a table scrolls sideways on a phone");
        Assert.Empty(pageErrors);

        var screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "dashboard-phone.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        var image = await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        TestContext.Current.AddAttachment("dashboard-phone.png", image, "image/png");
        TestContext.Current.SendDiagnosticMessage($"dashboard screenshot: {screenshot}");
    }

    [Fact]
    public async Task ProducerMetrics_AfterARun_AgreeWithTheProducersSummary()
    {
        var topic = stack.CreateOrderTopics("producer-metrics");
        var settings = CliSettings.Load(new SettingsRequest(null, new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = stack.BootstrapServers,
            ["SchemaRegistry:Url"] = stack.RegistryUrl,
            ["Producer:Topic"] = topic,
            ["Producer:Count"] = "250",
            ["Producer:InvalidRatio"] = "0.2",
            ["Producer:Seed"] = "3",
            ["Producer:Http:Port"] = "0",
        }, Json: true));
        using var loggers = Microsoft.Extensions.Logging.LoggerFactory.Create(_ => { });
        using var registry = settings.SchemaRegistryClient();
        // The host as `orders produce` builds it; it serves until stopped, so /metrics can be read after the run.
        using var host = ProduceCommand.ProducerHost(settings, loggers, registry);
        await host.StartAsync(TestContext.Current.CancellationToken);
        var address = await host.Services.GetRequiredService<Orders.Monitoring.HttpEndpoint>().Started;
        using var http = new HttpClient { BaseAddress = address };

        var summary = await host.Services.GetRequiredService<Orders.Producer.Hosting.ProducerWorker>().Completion;
        var metrics = PrometheusText.Parse(await http.GetStringAsync("/metrics", TestContext.Current.CancellationToken)).Only("messaging_destination_name", topic);

        Assert.Equal(250, summary.Produced);
        Assert.Equal("counter", metrics.Family("messaging_client_sent_messages_total").Type);
        var sent = metrics.Family("messaging_client_sent_messages_total").Samples;
        var acknowledged = Assert.Single(sent, s => !s.Labels.ContainsKey("error_type"));
        Assert.True(acknowledged.Has("messaging_destination_name", topic) && acknowledged.Has("messaging_operation_name", "send"));
        Assert.Equal(summary.Produced, acknowledged.Value);
        Assert.Equal(summary.Failed, metrics.Value("messaging_client_sent_messages_total", ("error_type", "_OTHER")));
        AssertCounter(metrics, "orders_producer_sent_total", summary.Sent);
        AssertCounter(metrics, "orders_producer_invalid_total", summary.Invalid);
        AssertCounter(metrics, "orders_producer_possibly_persisted_total", summary.PossiblyPersisted);
        Assert.True(summary.Valid.Currencies.Count >= 2, "the generator writes several currencies");
        Assert.Equal(summary.Valid.Currencies.Keys.Order(), metrics.Family("orders_producer_valid_orders_total").Samples.Select(s => s.Labels["orders_currency"]).Order());
        foreach (var (currency, totals) in summary.Valid.Currencies)
        {
            Assert.Equal(totals.Count, metrics.Value("orders_producer_valid_orders_total", ("orders_currency", currency)));
            Assert.Equal((double)totals.PriceSum, metrics.Value("orders_producer_valid_sum_of_prices_total", ("orders_currency", currency)), 6);
            Assert.Equal((double)totals.OrderValueSum, metrics.Value("orders_producer_valid_sum_of_order_values_total", ("orders_currency", currency)), 6);
        }

        AssertGauge(metrics, "orders_producer_in_flight", 0);
        Assert.DoesNotContain(metrics.Families.Keys, name => name.StartsWith("orders_processed", StringComparison.Ordinal));
    }

    /// <summary>The headline, the products table and the chart show <paramref name="currency"/>'s figures.</summary>
    private static async Task AssertCurrencyShownAsync(IPage page, string currency, Orders.Processor.Aggregates.CurrencyData data, LocatorAssertionsToHaveTextOptions timeout)
    {
        await Expect(page.Locator("#currency")).ToHaveValueAsync(currency);
        await Expect(page.Locator("#mean")).ToHaveTextAsync(Money(data.Overall.Price.Mean!.Value), timeout);
        await Expect(page.Locator("#count")).ToHaveTextAsync(Count(data.Overall.Count), timeout);
        await Expect(page.Locator("#order-value")).ToHaveTextAsync(Money(data.Overall.Value.Mean!.Value), timeout);
        await Expect(page.Locator("#products tbody tr")).ToHaveCountAsync(data.Products.Count, new LocatorAssertionsToHaveCountOptions { Timeout = 20_000 });
        foreach (var (product, stats) in data.Products)
        {
            var row = page.Locator($"#products tr[data-product='{product}']");
            await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync(Count(stats.Count), timeout);
            await Expect(row.Locator("td").Nth(2)).ToHaveTextAsync(Money(stats.Price.Mean!.Value), timeout);
            await Expect(row.Locator("td").Nth(5)).ToHaveTextAsync(Money(stats.Value.Mean!.Value), timeout);
        }

        // One point per minute (event time) with orders of this currency.
        var points = page.Locator("#chart svg circle.point");
        await Expect(points).ToHaveCountAsync(data.Minutes.Count, new LocatorAssertionsToHaveCountOptions { Timeout = 20_000 });
        Assert.True(data.Minutes.Count >= 1);
    }

    /// <summary>Waits until every record produced is settled and the processor's published view shows it.</summary>
    private static async Task<Orders.Processor.Observability.ProcessorView> SettledAsync(ProcessorRun run, long produced)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            var view = run.Processor.View;
            var deadLettered = view.Counters.DeadLetteredByReason.Values.Sum();
            if (view.Counters.Processed + deadLettered == produced && view.Aggregates.Count == view.Counters.Processed
                && view.Aggregates.DeadLetteredTotal == deadLettered)
            {
                return view;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);
        }

        Assert.Fail($"the processor did not settle {produced} records; it processed {run.Processor.Counters.Processed}");
        return null!;
    }

    private static async Task ShowsCurrentlyAsync(IPage page, string selector, Func<long> current, Orders.Processor.Observability.ProcessorCounters counters)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string? shown = null;
        while (DateTime.UtcNow < deadline)
        {
            shown = await page.Locator(selector).TextContentAsync();
            if (shown == Count(current()))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);
        }

        Assert.Fail($"{selector} shows {shown}, the processor's counter is {current()} " +
            $"(processed {counters.Processed}, honoured {counters.Honoured}, checkpoints restored {counters.CheckpointsRestored})");
    }

    // As the page writes them (en-US grouping: 1,234).
    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static double Sum(JsonElement stats) => double.Parse(stats.GetProperty("sum").GetString()!, CultureInfo.InvariantCulture);

    private static string Money(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private static void AssertCounter(PrometheusText metrics, string name, long expected)
    {
        Assert.Equal("counter", metrics.Family(name).Type);
        Assert.Equal(expected, Assert.Single(metrics.Family(name).Samples).Value);
    }

    private static void AssertGauge(PrometheusText metrics, string name, double expected)
    {
        Assert.Equal("gauge", metrics.Family(name).Type);
        Assert.Equal(expected, Assert.Single(metrics.Family(name).Samples).Value, 9);
    }
}
