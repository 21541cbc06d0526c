using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Orders.SchemaRegistry.Security;

/// <summary>
/// The users allowed to call the registry when it requires HTTP basic authentication, read from
/// a file (<c>orders stack --registry-auth FILE</c>), one user per line:
/// <code>
/// # comments and blank lines are ignored; leading and trailing spaces too
/// alice:correct horse battery staple          plain text (the password is everything after the first ':')
/// bob:sha256:5e884898da28047151d0e56f8dc62927... SHA-256 of the password, hex
/// carol:pbkdf2-sha256:210000:c2FsdA==:3q2+7w==   PBKDF2-HMAC-SHA256: iterations, salt and hash in base64
/// dave:plain:sha256:not-a-hash                   "plain:" when a plain password starts like a hash would
/// </code>
/// Passwords are compared in constant time, through a digest, so neither their content nor their
/// length shows in response times; they never appear in a message or a log.
/// </summary>
public sealed class RegistryUsers
{
    /// <summary>Fewer PBKDF2 iterations than this protect nothing; OWASP recommends 600,000 for SHA-256.</summary>
    public const int MinPbkdf2Iterations = 10_000;

    /// <summary>
    /// The most a pbkdf2-sha256 line may ask: 16 times OWASP's 600,000, a few seconds of a core per first verification.
    /// More is no safer in practice and a denial of service in effect: 2,000,000,000 held a request (and the stack's stop) for minutes.
    /// </summary>
    public const int MaxPbkdf2Iterations = 10_000_000;

    private const int MaxCachedVerifications = 1024;

    private static readonly byte[] Unknown = SHA256.HashData("no such user"u8);

    private readonly Dictionary<string, Credential> _users;

    // PBKDF2 costs milliseconds by design; a client sends the same header on every request.
    private readonly ConcurrentDictionary<string, string> _verified = new(StringComparer.Ordinal);

    private RegistryUsers(Dictionary<string, Credential> users) => _users = users;

    /// <summary>Far above any real users file (a line per user).</summary>
    public const int MaxBytes = 1024 * 1024;

    public int Count => _users.Count;

    public IEnumerable<string> UserNames => _users.Keys;

    /// <exception cref="InvalidDataException">The file cannot be read or a line is malformed; the message names the file and line.</exception>
    public static RegistryUsers Load(string path)
    {
        string[] lines;
        try
        {
            // Bounded, and a FIFO is not waited on forever: /dev/zero would be read until memory ran out.
            var bytes = Orders.Hosting.SmallFile.ReadAllBytes(path, MaxBytes);
            lines = new StreamReader(new MemoryStream(bytes), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true).ReadToEnd().Split('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new InvalidDataException($"cannot read the registry users file '{path}': {e.Message}", e);
        }

        return Parse(lines, $"registry users file '{path}'");
    }

    /// <param name="source">What error messages call the input, e.g. "registry users file 'users.txt'".</param>
    public static RegistryUsers Parse(IEnumerable<string> lines, string source)
    {
        var users = new Dictionary<string, Credential>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                throw Bad(source, number, "expected user:password");
            }

            var user = line[..colon].Trim();
            if (user.Length == 0)
            {
                throw Bad(source, number, "the user name before ':' is empty");
            }

            if (!users.TryAdd(user, ParseCredential(line[(colon + 1)..], source, number)))
            {
                throw Bad(source, number, $"user '{user}' appears twice");
            }
        }

        return users.Count == 0
            ? throw new InvalidDataException($"{source} has no users: add lines of the form user:password")
            : new RegistryUsers(users);
    }

    /// <summary>Whether the user exists and the password is theirs.</summary>
    public bool Verify(string user, string password)
    {
        if (!_users.TryGetValue(user, out var credential))
        {
            // Unknown users cost about what known ones do, so response times do not list the users.
            CryptographicOperations.FixedTimeEquals(Sha256(password), Unknown);
            return false;
        }

        return credential.Matches(password);
    }

    /// <summary>Checks an <c>Authorization</c> header value (<c>Basic base64(user:password)</c>).</summary>
    /// <param name="user">The user it names when well-formed, for logs; null when malformed.</param>
    public bool VerifyHeader(string? authorization, out string? user)
    {
        user = null;
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = authorization[6..].Trim();
        var cacheKey = Convert.ToHexString(Sha256(encoded));
        if (_verified.TryGetValue(cacheKey, out var known))
        {
            user = known;
            return true;
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(encoded));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        user = decoded[..colon];
        if (!Verify(user, decoded[(colon + 1)..]))
        {
            return false;
        }

        if (_verified.Count < MaxCachedVerifications)
        {
            _verified.TryAdd(cacheKey, user);
        }

        return true;
    }

    private static byte[] Sha256(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    private static Credential ParseCredential(string secret, string source, int line)
    {
        secret = secret.Trim();
        if (secret.StartsWith("plain:", StringComparison.Ordinal))
        {
            secret = secret["plain:".Length..];
        }
        else if (secret.StartsWith("sha256:", StringComparison.Ordinal))
        {
            var hex = secret["sha256:".Length..];
            try
            {
                var digest = Convert.FromHexString(hex);
                return digest.Length == 32 ? new DigestCredential(digest) : throw new FormatException();
            }
            catch (FormatException)
            {
                throw Bad(source, line, "sha256: must be followed by 64 hex digits (the SHA-256 of the password)");
            }
        }
        else if (secret.StartsWith("pbkdf2-sha256:", StringComparison.Ordinal))
        {
            var parts = secret["pbkdf2-sha256:".Length..].Split(':');
            try
            {
                if (parts.Length != 3)
                {
                    throw new FormatException();
                }

                var iterations = int.Parse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture);
                var salt = Convert.FromBase64String(parts[1]);
                var hash = Convert.FromBase64String(parts[2]);
                if (iterations is < MinPbkdf2Iterations or > MaxPbkdf2Iterations)
                {
                    throw Bad(source, line, string.Create(CultureInfo.InvariantCulture, $"pbkdf2-sha256 needs {MinPbkdf2Iterations:N0} to {MaxPbkdf2Iterations:N0} iterations, not {iterations:N0}"));
                }

                return salt.Length < 8 || hash.Length < 16 ? throw new FormatException() : new Pbkdf2Credential(iterations, salt, hash);
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                throw Bad(source, line, "expected pbkdf2-sha256:ITERATIONS:SALT:HASH (salt of 8+ bytes and hash of 16+ bytes, both base64)");
            }
        }

        return secret.Length == 0 ? throw Bad(source, line, "the password is empty") : new DigestCredential(Sha256(secret));
    }

    private static InvalidDataException Bad(string source, int line, string problem) => new($"{source}, line {line}: {problem}");

    private abstract class Credential
    {
        public abstract bool Matches(string password);
    }

    /// <summary>Plain passwords are kept only as their digest too: the comparison is then constant-time whatever the lengths.</summary>
    private sealed class DigestCredential(byte[] digest) : Credential
    {
        public override bool Matches(string password) => CryptographicOperations.FixedTimeEquals(Sha256(password), digest);
    }

    private sealed class Pbkdf2Credential(int iterations, byte[] salt, byte[] hash) : Credential
    {
        public override bool Matches(string password) =>
            CryptographicOperations.FixedTimeEquals(
                Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, hash.Length),
                hash);
    }
}
