using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Confluent.SchemaRegistry;

namespace Orders.IntegrationTests.Cluster;

/// <summary>
/// Plain HTTP to a Schema Registry, authenticated as Confluent's client is from the same settings: what
/// that client lacks (deleting a subject) goes through this. Basic auth from the user info or, with
/// <c>SASL_INHERIT</c>, from the Kafka credentials the settings carry; a static bearer token or an
/// OAuth client's (with the logical cluster and identity pool headers); the CA file, a client key store,
/// or no certificate check, as configured.
/// </summary>
public static class RegistryHttp
{
    /// <exception cref="InvalidOperationException">An authentication the helper does not know (a custom provider).</exception>
    public static async Task<HttpClient> CreateAsync(SchemaRegistryConfig config)
    {
        var handler = new HttpClientHandler();
        if (config.EnableSslCertificateVerification == false)
        {
            handler.ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator;
        }
        else if (config.SslCaLocation is { Length: > 0 } ca)
        {
            var authority = X509CertificateLoader.LoadCertificateFromFile(ca);
            handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None)
                {
                    return true;
                }

                if (certificate is null || chain is null || errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch))
                {
                    return false;
                }

                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(authority);
                return chain.Build(certificate);
            };
        }

        if (config.SslKeystoreLocation is { Length: > 0 } keystore)
        {
            handler.ClientCertificates.Add(X509CertificateLoader.LoadPkcs12FromFile(keystore, config.SslKeystorePassword));
        }

        var http = new HttpClient(handler) { BaseAddress = new Uri(config.Url.Split(',')[0].Trim().TrimEnd('/') + "/") };
        try
        {
            await AuthenticateAsync(http, config);
        }
        catch
        {
            http.Dispose();
            throw;
        }

        return http;
    }

    private static async Task AuthenticateAsync(HttpClient http, SchemaRegistryConfig config)
    {
        var basic = config.BasicAuthCredentialsSource == AuthCredentialsSource.SaslInherit
            ? $"{config.Get("sasl.username")}:{config.Get("sasl.password")}"
            : config.BasicAuthUserInfo;
        if (basic is { Length: > 0 })
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
            return;
        }

        switch (config.BearerAuthCredentialsSource)
        {
            case null:
                return;
            case BearerAuthCredentialsSource.StaticToken:
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", config.BearerAuthToken);
                break;
            case BearerAuthCredentialsSource.OAuthBearer:
                using (var provider = new BearerAuthenticationHeaderValueProvider(
                    new HttpClient(), config.BearerAuthClientId, config.BearerAuthClientSecret, config.BearerAuthScope, config.BearerAuthTokenEndpointUrl,
                    config.BearerAuthLogicalCluster, config.BearerAuthIdentityPoolId, 3, 1000, 20000))
                {
                    await provider.InitOrRefreshAsync();
                    http.DefaultRequestHeaders.Authorization = provider.GetAuthenticationHeader();
                }

                break;
            default:
                throw new InvalidOperationException($"the lane cannot authenticate to the registry with {config.BearerAuthCredentialsSource}: delete its subjects by hand");
        }

        if (config.BearerAuthLogicalCluster is { Length: > 0 } cluster)
        {
            http.DefaultRequestHeaders.Add("target-sr-cluster", cluster);
        }

        if (config.BearerAuthIdentityPoolId is { Length: > 0 } pool)
        {
            http.DefaultRequestHeaders.Add("Confluent-Identity-Pool-Id", pool);
        }
    }
}
