using Microsoft.Extensions.Logging;

using Orders.Tests.Shared;

namespace Orders.Hosting.UnitTests;

/// <summary>Secrets are recognised by the name of their setting, and scrubbed from text by value and from URLs.</summary>
public sealed class RedactionTests
{
    [Theory]
    [InlineData("sasl.password")]
    [InlineData("sasl.oauthbearer.client.secret")]
    [InlineData("sasl.oauthbearer.config")]
    [InlineData("sasl.oauthbearer.assertion.private.key.passphrase")]
    [InlineData("sasl.oauthbearer.assertion.private.key.pem")]
    [InlineData("sasl.jaas.config")]
    [InlineData("ssl.key.password")]
    [InlineData("ssl.key.pem")]
    [InlineData("ssl.keystore.password")]
    [InlineData("SaslPassword")]
    [InlineData("SslKeyPassword")]
    [InlineData("schema.registry.basic.auth.user.info")]
    [InlineData("BasicAuthUserInfo")]
    [InlineData("schema.registry.bearer.auth.token")]
    [InlineData("BearerAuthToken")]
    [InlineData("BearerAuthClientSecret")]
    [InlineData("SslKeystorePassword")]
    [InlineData("Kafka:sasl.password")]
    public void SecretSettings_AreRecognised_InEveryNamingStyle(string name) => Assert.True(Redaction.IsSecretSetting(name));

    [Theory]
    [InlineData("bootstrap.servers")]
    [InlineData("sasl.username")]
    [InlineData("sasl.mechanism")]
    [InlineData("security.protocol")]
    [InlineData("ssl.key.location")]
    [InlineData("ssl.keystore.location")]
    [InlineData("sasl.oauthbearer.token.endpoint.url")]
    [InlineData("BasicAuthCredentialsSource")]
    [InlineData("schema.registry.bearer.auth.credentials.source")]
    [InlineData("BearerAuthTokenEndpointUrl")]
    [InlineData("SslKeystoreLocation")]
    [InlineData("Url")]
    public void OrdinarySettings_AreNotSecret(string name) => Assert.False(Redaction.IsSecretSetting(name));

    [Theory]
    [InlineData("http://alice:s3cret@registry:8081", "http://[redacted]@registry:8081")]
    [InlineData("https://key:secret@a:1,https://key:secret@b:2", "https://[redacted]@a:1,https://[redacted]@b:2")]
    [InlineData("alice:s3cret@registry:8081", "[redacted]@registry:8081")]
    [InlineData("http://registry:8081", "http://registry:8081")]
    [InlineData("http://alice@registry:8081", "http://[redacted]@registry:8081")]
    public void Url_MasksUserInfo(string url, string expected) => Assert.Equal(expected, Redaction.Url(url));

    [Fact]
    public void UrlsIn_MasksOnlyAbsoluteUrls_InFreeText() =>
        Assert.Equal(
            "[https://[redacted]@registry/] 401; mail admin@example.com",
            Redaction.UrlsIn("[https://alice:pw@registry/] 401; mail admin@example.com"));

    [Fact]
    public void SecretRedactor_ReplacesEveryConfiguredSecret_LongestFirst()
    {
        var redactor = new SecretRedactor(["hunter2-long", "hunter2", "abc", null]);

        Assert.Equal("a [redacted] b [redacted] abc", redactor.Redact("a hunter2-long b hunter2 abc"));
    }

    [Fact]
    public void SecretsIn_TakesSecretSettingsValues_AndThePasswordOfUserInfo()
    {
        var secrets = SecretRedactor.SecretsIn(new Dictionary<string, string>
        {
            ["sasl.username"] = "orders",
            ["sasl.password"] = "kafka-pw",
            ["schema.registry.basic.auth.user.info"] = "alice:registry-pw",
            ["bootstrap.servers"] = "broker:9092",
        }).ToList();

        Assert.Equal(["kafka-pw", "alice:registry-pw", "registry-pw"], secrets);
    }

    [Fact]
    public void RedactingLoggerFactory_ScrubsMessagesStructuredValuesAndExceptions()
    {
        var sink = new CapturingLogger();
        using var factory = RedactingLoggerFactory.Wrap(new CapturingLoggerFactory(sink), new SecretRedactor(["hunter2!"]));
        var logger = factory.CreateLogger("test");

        logger.LogWarning(new InvalidOperationException("bad password hunter2!"), "user {User} sent {Password} to {Url}", "alice", "hunter2!", "http://alice:hunter2!@registry");

        var (_, _, message, state) = Assert.Single(sink.Entries);
        Assert.DoesNotContain("hunter2!", message, StringComparison.Ordinal);
        Assert.Contains("user alice sent [redacted] to http://[redacted]@registry", message, StringComparison.Ordinal);
        Assert.Contains("bad password [redacted]", message, StringComparison.Ordinal);
        var values = Assert.IsAssignableFrom<IReadOnlyList<KeyValuePair<string, object?>>>(state);
        Assert.Equal("[redacted]", values.Single(v => v.Key == "Password").Value);
    }

    [Fact]
    public void RedactingLoggerFactory_WithNothingToScrub_IsTheFactoryItself()
    {
        using var inner = new CapturingLoggerFactory(new CapturingLogger());

        Assert.Same(inner, RedactingLoggerFactory.Wrap(inner, SecretRedactor.None));
    }
}
