using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing.Patterns;
using Orders.SchemaRegistry.Http;

namespace Orders.SchemaRegistry.UnitTests;

public sealed class SubjectNamesTests
{
    private static readonly RoutePattern Versions = RoutePatternFactory.Parse("/subjects/{subject}/versions");

    [Theory]
    [InlineData("/subjects/py%2Fslash/versions", "/subjects/py%2Fslash/versions", "py/slash")]
    [InlineData("/subjects/py%2fslash/versions", "/subjects/py%2fslash/versions", "py/slash")]
    // A literal "%2F" in a name is sent as %252F; Kestrel's path shows it as "%2F", like an encoded '/'.
    [InlineData("/subjects/a%252Fb/versions", "/subjects/a%2Fb/versions", "a%2Fb")]
    [InlineData("/subjects/a%20b%C3%A9/versions?normalize=false", "/subjects/a bé/versions", "a bé")]
    [InlineData("/subjects/plain/versions#frag", "/subjects/plain/versions", "plain")]
    [InlineData("http://localhost:8081/subjects/abs%2Fform/versions?x=1", "/subjects/abs%2Fform/versions", "abs/form")]
    [InlineData("/subjects/bad%zzescape/versions", "/subjects/bad%zzescape/versions", "bad%zzescape")]
    public void Decode_RawSegment_IsTheSubjectAsConfluentNamesIt(string rawTarget, string routedPath, string expected) =>
        Assert.Equal(expected, SubjectNames.Decode(rawTarget, new PathString(routedPath), Versions));

    [Fact]
    public void Decode_SubjectDeeperInTheRoute_TakesItsSegment() =>
        Assert.Equal("c/d", SubjectNames.Decode(
            "/compatibility/subjects/c%2Fd/versions/latest", new PathString("/compatibility/subjects/c%2Fd/versions/latest"),
            RoutePatternFactory.Parse("/compatibility/subjects/{subject}/versions/{version}")));

    [Theory]
    // Kestrel resolved the dot segments: the raw segments no longer line up with the route's.
    [InlineData("/x/../subjects/a%2Fb/versions", "/subjects/a%2Fb/versions")]
    [InlineData("/subjects/./a%2Fb/versions", "/subjects/a%2Fb/versions")]
    [InlineData("/x/%2E%2E/subjects/a%2Fb/versions", "/subjects/a%2Fb/versions")]
    [InlineData("*", "/subjects/a/versions")]
    [InlineData("", "/subjects/a/versions")]
    [InlineData(null, "/subjects/a/versions")]
    [InlineData("http://host-without-path", "/subjects/a/versions")]
    public void Decode_RawTargetThatDoesNotLineUp_KeepsTheRouteValue(string? rawTarget, string routedPath) =>
        Assert.Null(SubjectNames.Decode(rawTarget, new PathString(routedPath), Versions));

    [Fact]
    public void Decode_RouteWithoutASubjectSegment_KeepsTheRouteValues() =>
        Assert.Null(SubjectNames.Decode("/schemas/ids/1%2F2", new PathString("/schemas/ids/1%2F2"), RoutePatternFactory.Parse("/schemas/ids/{id}")));
}
