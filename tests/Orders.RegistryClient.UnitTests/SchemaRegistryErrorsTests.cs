using System.Net;
using Confluent.SchemaRegistry;

namespace Orders.RegistryClient.UnitTests;

public sealed class SchemaRegistryErrorsTests
{
    [Fact]
    public void Describe_AnAnswerWithNoRegistryErrorBody_NamesTheStatusAndTheSettingToCheck() =>
        Assert.Equal(
            "HTTP 404 (NotFound) with no Schema Registry error in the body: is SchemaRegistry:Url (--schema-registry) the registry's address?",
            SchemaRegistryErrors.Describe(new SchemaRegistryException("", HttpStatusCode.NotFound, -1)));

    [Fact]
    public void Describe_ARegistryError_KeepsItsMessageAndCode_AfterTheStatus() =>
        Assert.Equal(
            "HTTP 409: Schema being registered is incompatible with an earlier schema; error code: 409",
            SchemaRegistryErrors.Describe(new SchemaRegistryException("Schema being registered is incompatible with an earlier schema", HttpStatusCode.Conflict, 409)));
}
