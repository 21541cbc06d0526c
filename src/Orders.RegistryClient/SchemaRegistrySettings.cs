using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Confluent.SchemaRegistry;
using Orders.Hosting;

namespace Orders.RegistryClient;

/// <summary>A Schema Registry setting that cannot work: one line naming the setting, never its secret value.</summary>
public sealed class SchemaRegistryConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The <c>SchemaRegistry</c> configuration section, passed through to Confluent's
/// <see cref="SchemaRegistryConfig"/> like the <c>Kafka</c> section is to librdkafka: every client
/// property, under its .NET name (<c>BasicAuthUserInfo</c>) or Confluent's dotted one
/// (<c>schema.registry.basic.auth.user.info</c>), checked before anything connects.
/// </summary>
/// <remarks>
/// <code>
/// "SchemaRegistry": {
///   "Url": "https://psrc-xxxxx.region.provider.confluent.cloud",
///   "BasicAuthUserInfo": "API_KEY:API_SECRET",   // or SchemaRegistry__BasicAuthUserInfo
///   "SslCaLocation": "/etc/ssl/certs/registry-ca.pem",
///   "RequestTimeoutMs": 5000
/// }
/// </code>
/// </remarks>
public static class SchemaRegistrySettings
{
    public const string Section = "SchemaRegistry";

    public const string DefaultUrl = "http://localhost:8081";

    /// <summary>Confluent's default is 30 s; a registry that does not answer in 5 s is better reported than waited for.</summary>
    public const int DefaultRequestTimeoutMs = 5000;

    /// <summary>Every property of Confluent's <see cref="SchemaRegistryConfig"/> (2.16), by .NET name.</summary>
    public static IReadOnlyList<RegistryProperty> Properties { get; } =
    [
        new("Url", SchemaRegistryConfig.PropertyNames.SchemaRegistryUrl, RegistryValueKind.UrlList),
        new("RequestTimeoutMs", SchemaRegistryConfig.PropertyNames.SchemaRegistryRequestTimeoutMs, RegistryValueKind.PositiveInteger),
        new("MaxRetries", SchemaRegistryConfig.PropertyNames.SchemaRegistryMaxRetries, RegistryValueKind.NonNegativeInteger),
        new("RetriesWaitMs", SchemaRegistryConfig.PropertyNames.SchemaRegistryRetriesWaitMs, RegistryValueKind.NonNegativeInteger),
        new("RetriesMaxWaitMs", SchemaRegistryConfig.PropertyNames.SchemaRegistryRetriesMaxWaitMs, RegistryValueKind.NonNegativeInteger),
        new("MaxConnectionsPerServer", SchemaRegistryConfig.PropertyNames.SchemaRegistryMaxConnectionsPerServer, RegistryValueKind.PositiveInteger),
        new("MaxCachedSchemas", SchemaRegistryConfig.PropertyNames.SchemaRegistryMaxCachedSchemas, RegistryValueKind.PositiveInteger),
        new("LatestCacheTtlSecs", SchemaRegistryConfig.PropertyNames.SchemaRegistryLatestCacheTtlSecs, RegistryValueKind.TtlSeconds),
        new("BasicAuthCredentialsSource", SchemaRegistryConfig.PropertyNames.SchemaRegistryBasicAuthCredentialsSource, RegistryValueKind.OneOf, ["USER_INFO", "SASL_INHERIT"]),
        new("BasicAuthUserInfo", SchemaRegistryConfig.PropertyNames.SchemaRegistryBasicAuthUserInfo, RegistryValueKind.UserInfo),
        new("BearerAuthCredentialsSource", SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthCredentialsSource, RegistryValueKind.OneOf, ["STATIC_TOKEN", "OAUTHBEARER", "OAUTHBEARER_AZURE_IMDS"]),
        new("BearerAuthToken", SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthToken, RegistryValueKind.Secret),
        new("BearerAuthLogicalCluster", SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthLogicalCluster, RegistryValueKind.Text),
        new("BearerAuthIdentityPoolId", SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthIdentityPoolId, RegistryValueKind.Text),
        new("BearerAuthClientId", SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthClientId, RegistryValueKind.Text),
        new("BearerAuthClientSecret", SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthClientSecret, RegistryValueKind.Secret),
        new("BearerAuthScope", SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthScope, RegistryValueKind.Text),
        new("BearerAuthTokenEndpointUrl", SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthTokenEndpointUrl, RegistryValueKind.Url),
        new("BearerAuthTokenEndpointQuery", SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthTokenEndpointQuery, RegistryValueKind.Text),
#pragma warning disable CS0618 // Obsolete in Confluent's client, but still properties of its config: they pass through.
        // Read by Confluent's serializers only, which these processes do not use: their subjects are named by topic.
        new("KeySubjectNameStrategy", SchemaRegistryConfig.PropertyNames.SchemaRegistryKeySubjectNameStrategy, RegistryValueKind.NotUsed),
        new("ValueSubjectNameStrategy", SchemaRegistryConfig.PropertyNames.SchemaRegistryValueSubjectNameStrategy, RegistryValueKind.NotUsed),
#pragma warning restore CS0618
        new("SslCaLocation", SchemaRegistryConfig.PropertyNames.SslCaLocation, RegistryValueKind.CaFile),
        new("SslKeystoreLocation", SchemaRegistryConfig.PropertyNames.SslKeystoreLocation, RegistryValueKind.KeystoreFile),
        new("SslKeystorePassword", SchemaRegistryConfig.PropertyNames.SslKeystorePassword, RegistryValueKind.Secret),
        new("EnableSslCertificateVerification", SchemaRegistryConfig.PropertyNames.EnableSslCertificateVerification, RegistryValueKind.Boolean),
    ];

    private static readonly Dictionary<string, RegistryProperty> ByName = Properties
        .SelectMany(p => new[] { (p.Name, p), (p.Key, p) })
        .ToDictionary(x => x.Item1, x => x.p, StringComparer.OrdinalIgnoreCase);

    /// <summary>The property a setting's name stands for (<c>Url</c> and <c>schema.registry.url</c> are one), or null for a name that is none.</summary>
    public static string? PropertyOf(string name) => ByName.TryGetValue(name, out var property) ? property.Key : null;

    /// <summary>
    /// Builds and checks the client configuration. <paramref name="settings"/> are the section's
    /// entries in precedence order, lowest first (a later source wins whichever name it uses);
    /// <c>Path</c> is what error messages call the setting (<c>SchemaRegistry:RequestTimeoutMs</c>).
    /// <paramref name="kafka"/> (librdkafka names) supplies <c>sasl.username</c>/<c>sasl.password</c>
    /// for <c>BasicAuthCredentialsSource=SASL_INHERIT</c>.
    /// </summary>
    /// <exception cref="SchemaRegistryConfigurationException">A setting is unknown, malformed or unusable.</exception>
    public static SchemaRegistryConfig Build(
        IEnumerable<(string Path, string Name, string? Value)> settings, IReadOnlyDictionary<string, string>? kafka = null)
    {
        var chosen = new Dictionary<string, (string Path, string Value)>(StringComparer.Ordinal);
        foreach (var (path, name, value) in settings)
        {
            if (!ByName.TryGetValue(name, out var property))
            {
                throw new SchemaRegistryConfigurationException($"{path}: unknown Schema Registry setting{Suggest(name)}");
            }

            if (value is null)
            {
                throw new SchemaRegistryConfigurationException($"{path}: expected a value, found a section");
            }

            chosen[property.Key] = (path, value.Trim());
        }

        var config = new SchemaRegistryConfig();
        foreach (var property in Properties)
        {
            // An empty value unsets a property (an environment variable cleared), but a registry needs a URL.
            if (chosen.TryGetValue(property.Key, out var setting) && (setting.Value.Length > 0 || property.Kind == RegistryValueKind.UrlList))
            {
                config.Set(property.Key, Check(property, setting.Path, setting.Value, chosen));
            }
        }

        config.Url ??= DefaultUrl;
        config.RequestTimeoutMs ??= DefaultRequestTimeoutMs;
        MoveUrlCredentials(config, PathOf(chosen, "Url"), PathOf(chosen, "BasicAuthUserInfo"));
        CheckAuthentication(config, chosen, kafka);

        // Confluent's client has the last word (and reads the key store, the CA file).
        using var _ = CreateClient(config);
        return config;
    }

    /// <summary>
    /// The registry client every verb uses, and our serdes with it. Settings Confluent's client
    /// rejects become a <see cref="SchemaRegistryConfigurationException"/>.
    /// </summary>
    public static CachedSchemaRegistryClient CreateClient(SchemaRegistryConfig config)
    {
        try
        {
            return new CachedSchemaRegistryClient(config);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new SchemaRegistryConfigurationException($"invalid Schema Registry configuration: {Redaction.UrlsIn(e.Message)}", e);
        }
    }

    /// <summary>The secrets in a registry configuration (user info, tokens, passwords), to keep out of logs.</summary>
    public static IEnumerable<string> SecretsIn(SchemaRegistryConfig config) =>
        SecretRedactor.SecretsIn(config.Where(p => p.Key != SchemaRegistryConfig.PropertyNames.SchemaRegistryUrl));

    private static string Check(RegistryProperty property, string path, string value, Dictionary<string, (string Path, string Value)> all)
    {
        switch (property.Kind)
        {
            case RegistryValueKind.NotUsed:
                throw new SchemaRegistryConfigurationException(
                    $"{path}: not used here: the subjects are named by topic ('<topic>-value', Confluent's TopicNameStrategy), which the producer, the processor and the dlq tools rely on alike");
            case RegistryValueKind.PositiveInteger:
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var positive) && positive > 0
                    ? positive.ToString(CultureInfo.InvariantCulture)
                    : throw Bad(path, value, "a whole number above 0");
            case RegistryValueKind.NonNegativeInteger:
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                    ? count.ToString(CultureInfo.InvariantCulture)
                    : throw Bad(path, value, "a whole number, 0 or more");
            case RegistryValueKind.TtlSeconds:
                return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ttl) && ttl >= -1
                    ? ttl.ToString(CultureInfo.InvariantCulture)
                    : throw Bad(path, value, "seconds, or -1 for no expiry");
            case RegistryValueKind.Boolean:
                return bool.TryParse(value, out var flag) ? (flag ? "true" : "false") : throw Bad(path, value, "true or false");
            case RegistryValueKind.OneOf:
                return property.Choices.FirstOrDefault(c => string.Equals(c, value, StringComparison.OrdinalIgnoreCase))
                    ?? throw Bad(path, value, "one of " + string.Join(", ", property.Choices));
            case RegistryValueKind.UrlList:
                foreach (var url in value.Split(','))
                {
                    if (CheckUrl(url.Trim()) is { } error)
                    {
                        throw new SchemaRegistryConfigurationException($"{path}: {error}");
                    }
                }

                return value;
            case RegistryValueKind.Url:
                return CheckUrl(value) is { } urlError ? throw new SchemaRegistryConfigurationException($"{path}: {urlError}") : value;
            case RegistryValueKind.UserInfo:
                var colon = value.IndexOf(':', StringComparison.Ordinal);
                return colon > 0
                    ? value
                    : throw new SchemaRegistryConfigurationException(colon == 0
                        ? $"{path}: the user name before ':' is empty (expected user:password)"
                        : $"{path}: expected user:password, found no ':'");
            case RegistryValueKind.CaFile:
                RequireFile(path, value);
                try
                {
                    var certificates = new X509Certificate2Collection();
                    certificates.ImportFromPemFile(value);
                    if (certificates.Count == 0)
                    {
                        X509CertificateLoader.LoadCertificateFromFile(value).Dispose();
                    }
                }
                catch (CryptographicException)
                {
                    throw new SchemaRegistryConfigurationException($"{path}: '{value}' holds no PEM or DER certificate");
                }

                return value;
            case RegistryValueKind.KeystoreFile:
                RequireFile(path, value);
                var password = all.TryGetValue(SchemaRegistryConfig.PropertyNames.SslKeystorePassword, out var p) ? p.Value : "";
                try
                {
                    X509CertificateLoader.LoadPkcs12FromFile(value, password).Dispose();
                }
                catch (CryptographicException)
                {
                    throw new SchemaRegistryConfigurationException(
                        $"{path}: cannot read the PKCS#12 key store '{value}' (not PKCS#12, or {PathOf(all, "SslKeystorePassword") ?? "SchemaRegistry:SslKeystorePassword"} is wrong)");
                }

                return value;
            default:
                return value;
        }
    }

    // Confluent's .NET client ignores user info in the URL (Java's takes it with
    // basic.auth.credentials.source=URL) and would print it in its error messages: take it out
    // of the URL and use it as the basic-auth credentials.
    private static void MoveUrlCredentials(SchemaRegistryConfig config, string? urlPath, string? userInfoPath)
    {
        var urls = config.Url.Split(',').Select(u => new Uri(u.Trim())).ToList();
        var userInfos = urls.Select(u => u.UserInfo).Where(u => u.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (userInfos.Count == 0)
        {
            return;
        }

        var path = urlPath ?? "SchemaRegistry:Url";
        if (userInfos.Count > 1 || userInfos.Count != urls.Count)
        {
            throw new SchemaRegistryConfigurationException($"{path}: the URLs carry different credentials; set SchemaRegistry:BasicAuthUserInfo instead");
        }

        if (config.BasicAuthUserInfo is not null)
        {
            throw new SchemaRegistryConfigurationException($"{path} carries credentials and {userInfoPath} is set too: keep one");
        }

        var userInfo = Uri.UnescapeDataString(userInfos[0]);
        if (userInfo.IndexOf(':', StringComparison.Ordinal) <= 0)
        {
            throw new SchemaRegistryConfigurationException($"{path}: credentials in the URL must be user:password");
        }

        config.BasicAuthUserInfo = userInfo;
        config.Url = string.Join(",", urls.Select(u => new UriBuilder(u) { UserName = "", Password = "" }.Uri.ToString().TrimEnd('/')));
    }

    private static void CheckAuthentication(
        SchemaRegistryConfig config, Dictionary<string, (string Path, string Value)> chosen, IReadOnlyDictionary<string, string>? kafka)
    {
        var basicSource = config.Get(SchemaRegistryConfig.PropertyNames.SchemaRegistryBasicAuthCredentialsSource);
        var bearerSource = config.Get(SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthCredentialsSource);
        var bearerPath = PathOf(chosen, "BearerAuthCredentialsSource");
        if (bearerSource is not null && (basicSource is not null || config.BasicAuthUserInfo is not null))
        {
            throw new SchemaRegistryConfigurationException($"{bearerPath}: basic and bearer authentication are both configured; keep one");
        }

        if (basicSource == "SASL_INHERIT")
        {
            var sourcePath = PathOf(chosen, "BasicAuthCredentialsSource");
            if (config.BasicAuthUserInfo is not null)
            {
                throw new SchemaRegistryConfigurationException($"{sourcePath} is SASL_INHERIT, but {PathOf(chosen, "BasicAuthUserInfo") ?? "the URL"} gives credentials too; keep one");
            }

            foreach (var name in (string[])["sasl.username", "sasl.password"])
            {
                if (kafka is null || !kafka.TryGetValue(name, out var value) || string.IsNullOrEmpty(value))
                {
                    throw new SchemaRegistryConfigurationException($"{sourcePath} is SASL_INHERIT, but Kafka:{name} is not set");
                }

                config.Set(name, value);
            }
        }

        switch (bearerSource)
        {
            case null:
                return;
            case "STATIC_TOKEN":
                Require(config, bearerPath, "BearerAuthToken", "BearerAuthLogicalCluster");
                break;
            case "OAUTHBEARER":
                Require(config, bearerPath, "BearerAuthTokenEndpointUrl", "BearerAuthClientId", "BearerAuthClientSecret", "BearerAuthScope", "BearerAuthLogicalCluster");
                break;
            case "OAUTHBEARER_AZURE_IMDS":
                Require(config, bearerPath, "BearerAuthTokenEndpointQuery", "BearerAuthLogicalCluster");
                break;
        }
    }

    private static void Require(SchemaRegistryConfig config, string? sourcePath, params string[] names)
    {
        foreach (var name in names)
        {
            if (string.IsNullOrEmpty(config.Get(ByName[name].Key)))
            {
                var source = config.Get(SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthCredentialsSource);
                throw new SchemaRegistryConfigurationException($"{sourcePath} is {source}, but SchemaRegistry:{name} is not set");
            }
        }
    }

    private static string? CheckUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host)
            ? null
            : $"'{Redaction.Url(url)}' is not an absolute http(s) URL";

    private static void RequireFile(string path, string file)
    {
        if (!File.Exists(file))
        {
            throw new SchemaRegistryConfigurationException(Directory.Exists(file)
                ? $"{path}: '{file}' is a directory; expected a file"
                : $"{path}: file '{file}' does not exist");
        }
    }

    private static string? PathOf(Dictionary<string, (string Path, string Value)> chosen, string name) =>
        chosen.TryGetValue(ByName[name].Key, out var setting) ? setting.Path : null;

    private static SchemaRegistryConfigurationException Bad(string path, string value, string expected) =>
        new($"{path}: '{Redaction.Value(path, value)}' is not {expected}");

    private static string Suggest(string name)
    {
        // A dotted name is compared with dotted names, a .NET name with .NET names.
        var dotted = name.Contains('.', StringComparison.Ordinal);
        return Suggestions.DidYouMean(name, Properties.Select(p => dotted ? p.Key : p.Name));
    }
}

public enum RegistryValueKind
{
    Text,
    Secret,
    UrlList,
    Url,
    UserInfo,
    PositiveInteger,
    NonNegativeInteger,
    TtlSeconds,
    Boolean,
    OneOf,
    CaFile,
    KeystoreFile,

    /// <summary>A property of Confluent's config these processes never read: refused rather than accepted for nothing.</summary>
    NotUsed,
}

/// <summary>One registry client property: its .NET name, Confluent's dotted key, and what its value must be.</summary>
public sealed record RegistryProperty(string Name, string Key, RegistryValueKind Kind, IReadOnlyList<string>? AllowedValues = null)
{
    public IReadOnlyList<string> Choices => AllowedValues ?? [];
}
