using System.Text.RegularExpressions;

namespace Orders.Hosting;

/// <summary>
/// Keeps secrets (SASL and TLS passwords, OAuth client secrets, registry user info and tokens)
/// out of logs, error messages and summaries: by the name of the setting that holds them, by
/// their value wherever it turns up in text, and as user info inside URLs.
/// </summary>
public static partial class Redaction
{
    /// <summary>What a secret is replaced with.</summary>
    public const string Mask = "[redacted]";

    // Matched against the setting name lower-cased with '.', '_', '-' and ':' removed, so that
    // librdkafka's names (sasl.password), .NET names (SaslPassword, BasicAuthUserInfo) and Java's
    // (sasl.jaas.config) all count.
    private static readonly string[] SecretNameParts =
    [
        "password", "passphrase", "secret", "userinfo", "token", "jaasconfig", "keypem", "sslkey", "oauthbearerconfig", "apikey", "credentials",
    ];

    // Names that contain one of the parts above but hold no secret.
    private static readonly HashSet<string> NotSecret = new(StringComparer.Ordinal)
    {
        "basicauthcredentialssource", "schemaregistrybasicauthcredentialssource",
        "bearerauthcredentialssource", "schemaregistrybearerauthcredentialssource",
        "bearerauthtokenendpointurl", "schemaregistrybearerauthtokenendpointurl",
        "bearerauthtokenendpointquery", "schemaregistrybearerauthtokenendpointquery",
        "sasloauthbearertokenendpointurl",
        "sslkeystorelocation", "schemaregistrysslkeystorelocation", "sslkeylocation",
        "sslkeystoretype", "sslkeymanageralgorithm",
    };

    /// <summary>Whether a setting of this name holds a secret, whatever naming style it uses.</summary>
    public static bool IsSecretSetting(string name)
    {
        var normalized = Normalize(name);
        if (NotSecret.Contains(normalized))
        {
            return false;
        }

        foreach (var part in SecretNameParts)
        {
            if (normalized.Contains(part, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The URL (or comma-separated URLs) with any user info replaced by the mask.</summary>
    public static string Url(string? url) =>
        string.IsNullOrEmpty(url) ? url ?? "" : UserInfoInUrl().Replace(url, m => m.Groups["scheme"].Value + Mask + "@");

    /// <summary>Free text with the user info of every absolute URL in it (scheme://user:password@host) masked.</summary>
    public static string UrlsIn(string text) =>
        text.Contains("://", StringComparison.Ordinal) ? UserInfoInAbsoluteUrl().Replace(text, m => m.Groups["scheme"].Value + Mask + "@") : text;

    /// <summary>The value, or the mask when the setting holds a secret: what may be shown for a setting.</summary>
    public static string Value(string name, string? value) =>
        value is null ? "" : IsSecretSetting(name) ? Mask : Url(value);

    private static string Normalize(string name)
    {
        Span<char> buffer = name.Length <= 256 ? stackalloc char[name.Length] : new char[name.Length];
        var length = 0;
        foreach (var c in name)
        {
            if (c is not ('.' or '_' or '-' or ':'))
            {
                buffer[length++] = char.ToLowerInvariant(c);
            }
        }

        return new string(buffer[..length]);
    }

    // scheme://user:password@host, and the scheme-less user:password@host Confluent's client accepts
    // in a URL list (there only with a colon: a bare user@host carries no secret).
    [GeneratedRegex(@"(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s,]+@|(?<scheme>(?<=^|[,\s]))[^/@\s,:]+:[^/@\s,]*@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfoInUrl();

    [GeneratedRegex(@"(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s,]+@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfoInAbsoluteUrl();
}

/// <summary>
/// Replaces known secret values wherever they appear in text: the last line of defence for what
/// a library prints on its own (a debug dump, an exception message that quotes its input).
/// </summary>
public sealed class SecretRedactor
{
    /// <summary>Values shorter than this are not scrubbed: replacing "abc" everywhere would wreck every log line.</summary>
    public const int MinimumLength = 4;

    private readonly string[] _secrets;

    public SecretRedactor(IEnumerable<string?> secrets)
    {
        // Longest first, so that a secret containing another is replaced whole.
        _secrets = secrets
            .Where(s => s is { Length: >= MinimumLength })
            .Select(s => s!)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(s => s.Length)
            .ToArray();
    }

    public static SecretRedactor None { get; } = new([]);

    public bool IsEmpty => _secrets.Length == 0;

    /// <summary>The text with every known secret replaced by <see cref="Redaction.Mask"/>, and user info removed from URLs.</summary>
    public string Redact(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        foreach (var secret in _secrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Redaction.Mask, StringComparison.Ordinal);
            }
        }

        return Redaction.UrlsIn(text);
    }

    /// <summary>The secrets among a client's settings: the values of every setting whose name says it holds one.</summary>
    public static IEnumerable<string> SecretsIn(IEnumerable<KeyValuePair<string, string>> settings)
    {
        foreach (var (name, value) in settings)
        {
            if (string.IsNullOrEmpty(value) || !Redaction.IsSecretSetting(name))
            {
                continue;
            }

            yield return value;

            // user:password: the password alone may turn up too (an Authorization header decoded, a URL).
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0 && colon < value.Length - 1)
            {
                yield return value[(colon + 1)..];
            }
        }
    }
}
