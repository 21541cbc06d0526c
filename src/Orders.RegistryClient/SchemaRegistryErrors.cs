using System.Net;
using Confluent.SchemaRegistry;
using Orders.Hosting;

namespace Orders.RegistryClient;

/// <summary>
/// What a registry failure means for the caller. Rejected credentials (401, 403) are a
/// configuration error: retrying cannot fix them, so they end the run with one line, exit 1,
/// where an unreachable registry is waited for.
/// </summary>
public static class SchemaRegistryErrors
{
    /// <summary>Whether the registry refused the credentials (or their absence), anywhere in the exception's chain.</summary>
    public static bool IsCredentialsRejected(Exception exception) => StatusOf(exception) is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    /// <summary>One line for a rejection (<see cref="IsCredentialsRejected"/>) saying which setting to fix; null for any other failure.</summary>
    public static string? DescribeRejection(Exception exception, SchemaRegistryConfig config)
    {
        var url = Redaction.Url(config.Url);
        var bearer = config.Get(SchemaRegistryConfig.PropertyNames.SchemaRegistryBearerAuthCredentialsSource) is not null;
        var basic = config.BasicAuthUserInfo is not null
            || config.Get(SchemaRegistryConfig.PropertyNames.SchemaRegistryBasicAuthCredentialsSource) == "SASL_INHERIT";
        return StatusOf(exception) switch
        {
            HttpStatusCode.Unauthorized when bearer =>
                $"the Schema Registry at {url} rejected the bearer token (401 Unauthorized): check the SchemaRegistry:BearerAuth* settings",
            HttpStatusCode.Unauthorized when basic =>
                $"the Schema Registry at {url} rejected the credentials (401 Unauthorized): check SchemaRegistry:BasicAuthUserInfo",
            HttpStatusCode.Unauthorized =>
                $"the Schema Registry at {url} requires credentials (401 Unauthorized): set SchemaRegistry:BasicAuthUserInfo (environment: SchemaRegistry__BasicAuthUserInfo=user:password)",
            HttpStatusCode.Forbidden =>
                $"the Schema Registry at {url} refused access to the configured user (403 Forbidden): grant it access to the subjects, or use another account",
            _ => null,
        };
    }

    /// <summary>
    /// The registry's answer in words. Confluent's client gives error code -1 and no message when the body
    /// was not a Schema Registry error (an HTML page: a proxy, a web server, a URL with the wrong path or
    /// port), which alone reads "; error code: -1": then the HTTP status and what to check.
    /// </summary>
    public static string Describe(SchemaRegistryException exception) => exception.ErrorCode == -1
        ? $"HTTP {(int)exception.Status} ({exception.Status}) with no Schema Registry error in the body: is SchemaRegistry:Url (--schema-registry) the registry's address?"
        : $"HTTP {(int)exception.Status}: {exception.Message}";

    private static HttpStatusCode? StatusOf(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SchemaRegistryException registry:
                    return registry.Status;
                case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                    return aggregate.InnerExceptions.Select(StatusOf).FirstOrDefault(s => s is not null);
                case HttpRequestException { StatusCode: { } status }:
                    return status;
                case HttpRequestException http when http.Message == "Unauthorized":
                    // What Confluent's client throws for a 401 whose body is not Confluent's error JSON.
                    return HttpStatusCode.Unauthorized;
            }
        }

        return null;
    }
}

/// <summary>Asks the registry once, at start, whether it accepts the configured credentials.</summary>
public static class SchemaRegistryPreflight
{
    /// <summary>
    /// One cheap authenticated request (<c>GET /subjects</c>) with no retry. Returns the error
    /// line when the registry rejects the credentials; null when it accepts them, and also when it
    /// cannot be asked at all (down, timing out): each verb has its own way with an unreachable
    /// registry (the processor waits for it), and this check must not change that.
    /// </summary>
    public static async Task<string?> CheckCredentialsAsync(SchemaRegistryConfig config, CancellationToken cancellationToken)
    {
        var once = new SchemaRegistryConfig();
        foreach (var (key, value) in config)
        {
            once.Set(key, value);
        }

        // One attempt (Confluent's client counts attempts, whatever the name says; 0 would send nothing).
        once.MaxRetries = 1;
        using var client = SchemaRegistrySettings.CreateClient(once);
        try
        {
            await client.GetAllSubjectsAsync().WaitAsync(TimeSpan.FromMilliseconds(once.RequestTimeoutMs ?? SchemaRegistrySettings.DefaultRequestTimeoutMs), cancellationToken);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return SchemaRegistryErrors.DescribeRejection(e, config);
        }
    }
}
