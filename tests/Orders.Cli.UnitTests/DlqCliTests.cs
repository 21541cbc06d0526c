namespace Orders.Cli.UnitTests;

/// <summary>Bad input to <c>orders dlq</c>: one line on stderr naming the problem, exit code 2, nothing contacted.</summary>
public sealed class DlqCliTests
{
    [Theory]
    [InlineData("'x' is not OFFSET or PARTITION:OFFSET", "dlq", "show", "x")]
    [InlineData("bad partition 'p'", "dlq", "show", "p:3")]
    [InlineData("bad offset '-3'", "dlq", "show", "0:-3")]
    [InlineData("Required argument missing", "dlq", "show")]
    [InlineData("unknown reason 'bogus'", "dlq", "list", "--reason", "bogus")]
    [InlineData("unknown reason 'Poison'", "dlq", "replay", "--reason", "Poison")]
    [InlineData("--since 'yesterday' is neither", "dlq", "list", "--since", "yesterday")]
    [InlineData("--since '5 minutes' is neither", "dlq", "replay", "--since", "5 minutes")]
    [InlineData("--topic", "dlq", "list", "--topic", "orders/eu")]
    [InlineData("schema registry URL", "dlq", "show", "1", "--schema-registry", "ftp://x")]
    [InlineData("Required command was not provided", "dlq")]
    [InlineData("Unrecognized command or argument 'purge'", "dlq", "purge")]
    public async Task BadInput_OneLineError_Exit2(string problem, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await OrdersCli.RunAsync(args, stdout, stderr);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("orders: ", line, StringComparison.Ordinal);
        Assert.Contains(problem, line, StringComparison.Ordinal);
        Assert.Equal("", stdout.ToString());
    }
}
