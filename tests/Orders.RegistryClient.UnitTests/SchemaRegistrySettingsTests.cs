using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Confluent.SchemaRegistry;

namespace Orders.RegistryClient.UnitTests;

/// <summary>The <c>SchemaRegistry</c> section into Confluent's client config: every property, both names, checked at start.</summary>
public sealed class SchemaRegistrySettingsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orders-registry-settings").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static SchemaRegistryConfig Build(params (string Name, string? Value)[] settings) =>
        SchemaRegistrySettings.Build(settings.Select(s => ($"SchemaRegistry:{s.Name}", s.Name, s.Value)));

    private static string Error(params (string Name, string? Value)[] settings) =>
        Assert.Throws<SchemaRegistryConfigurationException>(() => Build(settings)).Message;

    [Fact]
    public void EveryPropertyOfConfluentsConfig_IsInTheTable()
    {
        var confluent = typeof(SchemaRegistryConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .Select(p => p.Name)
            .Where(name => name != "SchemaRegistryUrl");
        var keys = typeof(SchemaRegistryConfig.PropertyNames).GetFields().Select(f => (string)f.GetValue(null)!);

        Assert.Equal(confluent.Order(), SchemaRegistrySettings.Properties.Select(p => p.Name).Order());
        Assert.Equal(keys.Order(), SchemaRegistrySettings.Properties.Select(p => p.Key).Order());
    }

    public static TheoryData<string, string, string> PassThrough() => new()
    {
        { "RequestTimeoutMs", "schema.registry.request.timeout.ms", "1234" },
        { "MaxRetries", "schema.registry.max.retries", "0" },
        { "RetriesWaitMs", "schema.registry.retries.wait.ms", "250" },
        { "RetriesMaxWaitMs", "schema.registry.retries.max.wait.ms", "2500" },
        { "MaxConnectionsPerServer", "schema.registry.connections.max.per.server", "4" },
        { "MaxCachedSchemas", "schema.registry.max.cached.schemas", "50" },
        { "LatestCacheTtlSecs", "schema.registry.latest.cache.ttl.secs", "-1" },
        { "BasicAuthUserInfo", "schema.registry.basic.auth.user.info", "alice:pa:ss" },
        { "BasicAuthCredentialsSource", "schema.registry.basic.auth.credentials.source", "USER_INFO" },
        { "EnableSslCertificateVerification", "schema.registry.enable.ssl.certificate.verification", "false" },
    };

    [Theory]
    [InlineData("ValueSubjectNameStrategy", "Record")]
    [InlineData("schema.registry.value.subject.name.strategy", "TopicRecord")]
    [InlineData("KeySubjectNameStrategy", "Topic")]
    public void ASubjectNameStrategy_IsRefused_SinceTheSubjectsAreNamedByTopicWhateverItSays(string name, string value)
    {
        var error = Assert.Throws<SchemaRegistryConfigurationException>(() => Build((name, value)));

        Assert.Equal($"SchemaRegistry:{name}: not used here: the subjects are named by topic ('<topic>-value', Confluent's TopicNameStrategy), which the producer, the processor and the dlq tools rely on alike", error.Message);
    }

    [Theory]
    [MemberData(nameof(PassThrough))]
    public void AProperty_PassesThrough_UnderItsDotNetName_AndUnderConfluentsDottedName(string name, string key, string value)
    {
        Assert.Equal(value, Build((name, value)).Get(key));
        Assert.Equal(value, Build((key, value)).Get(key));
    }

    [Fact]
    public void BearerSettings_PassThrough()
    {
        var config = Build(
            ("BearerAuthCredentialsSource", "OAUTHBEARER"), ("BearerAuthClientId", "client"), ("BearerAuthClientSecret", "s3cret"),
            ("BearerAuthScope", "schema"), ("BearerAuthTokenEndpointUrl", "https://idp.example/token"),
            ("BearerAuthLogicalCluster", "lsrc-123"), ("BearerAuthIdentityPoolId", "pool-1"));

        Assert.Equal("s3cret", config.Get(SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthClientSecret));
        Assert.Equal("lsrc-123", config.Get(SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthLogicalCluster));
        Assert.Equal("https://idp.example/token", config.Get(SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthTokenEndpointUrl));
    }

    [Fact]
    public void Defaults_LocalRegistry_AndAFiveSecondTimeout()
    {
        var config = Build();

        Assert.Equal("http://localhost:8081", config.Url);
        Assert.Equal(5000, config.RequestTimeoutMs);
    }

    [Fact]
    public void ALaterSource_Wins_WhicheverNameItUses()
    {
        var config = SchemaRegistrySettings.Build(
        [
            ("SchemaRegistry:Url", "Url", "http://from-appsettings:8081"),
            ("SchemaRegistry:schema.registry.url", "schema.registry.url", "http://from-environment:8081"),
        ]);

        Assert.Equal("http://from-environment:8081", config.Url);
    }

    [Fact]
    public void CredentialsInTheUrl_BecomeTheBasicAuthUserInfo_AndLeaveTheUrl()
    {
        var config = Build(("Url", "https://key:p%40ss@registry.example:443"));

        Assert.Equal("key:p@ss", config.BasicAuthUserInfo);
        Assert.Equal("https://registry.example", config.Url);
    }

    [Fact]
    public void SaslInherit_TakesKafkasSaslCredentials()
    {
        var config = SchemaRegistrySettings.Build(
            [("SchemaRegistry:BasicAuthCredentialsSource", "BasicAuthCredentialsSource", "SASL_INHERIT")],
            new Dictionary<string, string> { ["sasl.username"] = "orders", ["sasl.password"] = "pw" });

        Assert.Equal("orders", config.Get("sasl.username"));
        Assert.Equal("pw", config.Get("sasl.password"));
    }

    [Theory]
    [InlineData("Urll", "http://x", "SchemaRegistry:Urll: unknown Schema Registry setting (did you mean Url?)")]
    [InlineData("schema.registry.request.timout.ms", "1", "did you mean schema.registry.request.timeout.ms?")]
    [InlineData("Url", "registry:8081", "SchemaRegistry:Url: 'registry:8081' is not an absolute http(s) URL")]
    [InlineData("Url", "", "SchemaRegistry:Url: '' is not an absolute http(s) URL")]
    [InlineData("Url", "http://a:1,ftp://b:2", "SchemaRegistry:Url: 'ftp://b:2' is not an absolute http(s) URL")]
    [InlineData("RequestTimeoutMs", "5s", "SchemaRegistry:RequestTimeoutMs: '5s' is not a whole number above 0")]
    [InlineData("RequestTimeoutMs", "0", "SchemaRegistry:RequestTimeoutMs: '0' is not a whole number above 0")]
    [InlineData("schema.registry.max.retries", "-1", "SchemaRegistry:schema.registry.max.retries: '-1' is not a whole number, 0 or more")]
    [InlineData("LatestCacheTtlSecs", "-2", "SchemaRegistry:LatestCacheTtlSecs: '-2' is not seconds, or -1 for no expiry")]
    [InlineData("EnableSslCertificateVerification", "yes", "SchemaRegistry:EnableSslCertificateVerification: 'yes' is not true or false")]
    [InlineData("BasicAuthCredentialsSource", "URL", "SchemaRegistry:BasicAuthCredentialsSource: 'URL' is not one of USER_INFO, SASL_INHERIT")]
    [InlineData("BearerAuthCredentialsSource", "CUSTOM", "is not one of STATIC_TOKEN, OAUTHBEARER, OAUTHBEARER_AZURE_IMDS")]
    [InlineData("BasicAuthUserInfo", "justakey", "SchemaRegistry:BasicAuthUserInfo: expected user:password, found no ':'")]
    [InlineData("BasicAuthUserInfo", ":secret", "SchemaRegistry:BasicAuthUserInfo: the user name before ':' is empty")]
    [InlineData("BearerAuthTokenEndpointUrl", "idp/token", "SchemaRegistry:BearerAuthTokenEndpointUrl: 'idp/token' is not an absolute http(s) URL")]
    [InlineData("SslCaLocation", "/no/such/ca.pem", "SchemaRegistry:SslCaLocation: file '/no/such/ca.pem' does not exist")]
    [InlineData("SslKeystoreLocation", "/no/such/client.p12", "SchemaRegistry:SslKeystoreLocation: file '/no/such/client.p12' does not exist")]
    public void ABadSetting_IsOneLineNamingIt(string name, string value, string expected)
    {
        var message = Error((name, value));

        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void ASection_WhereAValueBelongs_IsAnError() =>
        Assert.Equal("SchemaRegistry:Url: expected a value, found a section", Error(("Url", null)));

    [Theory]
    [InlineData("STATIC_TOKEN", "SchemaRegistry:BearerAuthCredentialsSource is STATIC_TOKEN, but SchemaRegistry:BearerAuthToken is not set")]
    [InlineData("OAUTHBEARER", "SchemaRegistry:BearerAuthCredentialsSource is OAUTHBEARER, but SchemaRegistry:BearerAuthTokenEndpointUrl is not set")]
    public void BearerAuth_WithoutWhatItNeeds_NamesTheMissingSetting(string source, string expected) =>
        Assert.Equal(expected, Error(("BearerAuthCredentialsSource", source)));

    [Fact]
    public void BasicAndBearerTogether_IsAnError() =>
        Assert.Contains("basic and bearer authentication are both configured",
            Error(("BasicAuthUserInfo", "a:b"), ("BearerAuthCredentialsSource", "STATIC_TOKEN"), ("BearerAuthToken", "t"), ("BearerAuthLogicalCluster", "c")),
            StringComparison.Ordinal);

    [Fact]
    public void SaslInherit_WithoutKafkaCredentials_NamesTheMissingOne() =>
        Assert.Equal("SchemaRegistry:BasicAuthCredentialsSource is SASL_INHERIT, but Kafka:sasl.username is not set",
            Error(("BasicAuthCredentialsSource", "SASL_INHERIT")));

    [Fact]
    public void CredentialsBothInTheUrlAndInUserInfo_IsAnError_ThatShowsNeither()
    {
        var message = Error(("Url", "http://key:url-secret@registry:8081"), ("BasicAuthUserInfo", "key:info-secret"));

        Assert.Contains("carries credentials and SchemaRegistry:BasicAuthUserInfo is set too", message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInvalidUrlWithCredentials_IsReportedWithoutThem() =>
        Assert.DoesNotContain("hunter2", Error(("Url", "ftp://alice:hunter2@registry")), StringComparison.Ordinal);

    [Fact]
    public void ACaFile_ThatIsACertificate_IsAccepted_AndGarbageIsNot()
    {
        using var key = RSA.Create(2048);
        using var certificate = new CertificateRequest("CN=orders-test-ca", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pem = Path.Combine(_folder, "ca.pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        var garbage = Path.Combine(_folder, "garbage.pem");
        File.WriteAllText(garbage, "not a certificate");

        Assert.Equal(pem, Build(("SslCaLocation", pem)).SslCaLocation);
        Assert.Equal($"SchemaRegistry:SslCaLocation: '{garbage}' holds no PEM or DER certificate", Error(("SslCaLocation", garbage)));
    }

    [Fact]
    public void AKeystore_OpensWithItsPassword_AndAWrongPasswordIsNamedNotShown()
    {
        using var key = RSA.Create(2048);
        using var certificate = new CertificateRequest("CN=orders-client", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var keystore = Path.Combine(_folder, "client.p12");
        File.WriteAllBytes(keystore, certificate.Export(X509ContentType.Pkcs12, "right-password"));

        var config = Build(("SslKeystoreLocation", keystore), ("SslKeystorePassword", "right-password"));
        var message = Error(("SslKeystoreLocation", keystore), ("SslKeystorePassword", "wrong-password"));

        Assert.Equal(keystore, config.SslKeystoreLocation);
        Assert.Contains("SchemaRegistry:SslKeystoreLocation: cannot read the PKCS#12 key store", message, StringComparison.Ordinal);
        Assert.Contains("SchemaRegistry:SslKeystorePassword is wrong", message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", message, StringComparison.Ordinal);
    }
}
