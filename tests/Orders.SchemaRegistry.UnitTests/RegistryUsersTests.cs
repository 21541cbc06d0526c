using System.Security.Cryptography;
using System.Text;
using Orders.SchemaRegistry.Security;

namespace Orders.SchemaRegistry.UnitTests;

/// <summary>The <c>--registry-auth</c> users file: plain, SHA-256 and PBKDF2 entries; bad lines named by number.</summary>
public sealed class RegistryUsersTests
{
    private static RegistryUsers Parse(params string[] lines) => RegistryUsers.Parse(lines, "users.txt");

    private static string Header(string user, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private static string Pbkdf2Entry(string password, int iterations = RegistryUsers.MinPbkdf2Iterations)
    {
        var salt = "orders-salt-16-b"u8.ToArray();
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256:{iterations}:{Convert.ToBase64String(salt)}:{Convert.ToBase64String(hash)}";
    }

    [Fact]
    public void EveryEntryKind_AcceptsItsPassword_AndOnlyThat()
    {
        var users = Parse(
            "# the registry's users",
            "",
            "  alice:correct horse:battery  ",
            "bob:sha256:" + Convert.ToHexString(SHA256.HashData("builder"u8)).ToLowerInvariant(),
            "carol:" + Pbkdf2Entry("c4rol!"),
            "dave:plain:sha256:not-a-hash");

        Assert.Equal(4, users.Count);
        Assert.True(users.Verify("alice", "correct horse:battery"));
        Assert.True(users.Verify("bob", "builder"));
        Assert.True(users.Verify("carol", "c4rol!"));
        Assert.True(users.Verify("dave", "sha256:not-a-hash"));
        Assert.False(users.Verify("alice", "correct horse"));
        Assert.False(users.Verify("bob", "Builder"));
        Assert.False(users.Verify("carol", "c4rol"));
        Assert.False(users.Verify("mallory", "builder"));
        Assert.False(users.Verify("Alice", "correct horse:battery"));
    }

    [Fact]
    public void VerifyHeader_TakesBasicCredentials_AndRejectsEverythingElse()
    {
        var users = Parse("alice:wonderland", "carol:" + Pbkdf2Entry("c4rol!"));

        Assert.True(users.VerifyHeader(Header("alice", "wonderland"), out var alice));
        Assert.True(users.VerifyHeader(Header("carol", "c4rol!"), out _));
        Assert.True(users.VerifyHeader(Header("carol", "c4rol!"), out var carolAgain));
        Assert.Equal(("alice", "carol"), (alice, carolAgain));
        Assert.True(users.VerifyHeader("basic " + Header("alice", "wonderland")[6..], out _));

        Assert.False(users.VerifyHeader(Header("alice", "wrong"), out var wrongUser));
        Assert.Equal("alice", wrongUser);
        Assert.False(users.VerifyHeader(null, out _));
        Assert.False(users.VerifyHeader("Bearer abc", out _));
        Assert.False(users.VerifyHeader("Basic %%%not-base64", out _));
        Assert.False(users.VerifyHeader("Basic " + Convert.ToBase64String("no-colon"u8), out _));
        Assert.False(users.VerifyHeader("Basic " + Convert.ToBase64String(":wonderland"u8), out _));
        Assert.False(users.VerifyHeader("Basic " + Convert.ToBase64String([0xff, 0xfe, 0x3a, 0x41]), out _));
    }

    [Theory]
    [InlineData("just-a-name", "users.txt, line 2: expected user:password")]
    [InlineData(":pw-secret", "users.txt, line 2: the user name before ':' is empty")]
    [InlineData("erin:", "users.txt, line 2: the password is empty")]
    [InlineData("alice:other-secret", "users.txt, line 2: user 'alice' appears twice")]
    [InlineData("erin:sha256:abc-secret", "users.txt, line 2: sha256: must be followed by 64 hex digits")]
    [InlineData("erin:pbkdf2-sha256:100000:c2FsdA-secret", "users.txt, line 2: expected pbkdf2-sha256:ITERATIONS:SALT:HASH")]
    [InlineData("erin:pbkdf2-sha256:1000:b3JkZXJzLXNhbHQtMTYtYg==:AAAAAAAAAAAAAAAAAAAAAA==", "users.txt, line 2: pbkdf2-sha256 needs 10,000 to 10,000,000 iterations, not 1,000")]
    // Minutes of a core for the first request that names the user, and the stack's stop held meanwhile.
    [InlineData("erin:pbkdf2-sha256:2000000000:b3JkZXJzLXNhbHQtMTYtYg==:AAAAAAAAAAAAAAAAAAAAAA==", "users.txt, line 2: pbkdf2-sha256 needs 10,000 to 10,000,000 iterations, not 2,000,000,000")]
    public void ABadLine_IsNamedByNumber_WithoutItsSecret(string line, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse("alice:wonderland", line));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wonderland", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileWithNoUsers_IsAnError() =>
        Assert.Contains("has no users", Assert.Throws<InvalidDataException>(() => Parse("# nobody", "")).Message, StringComparison.Ordinal);

    [Fact]
    public void Load_AMissingFile_IsAnInvalidDataErrorNamingIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-users-{Guid.NewGuid():N}.txt");

        var error = Assert.Throws<InvalidDataException>(() => RegistryUsers.Load(path));

        Assert.StartsWith($"cannot read the registry users file '{path}'", error.Message, StringComparison.Ordinal);
    }
}
