namespace Orders.Hosting;

/// <summary>"Did you mean ...?" for a name that is almost one we know: settings, sections, properties.</summary>
public static class Suggestions
{
    /// <returns><c> (did you mean X?)</c> for the closest candidate when it is close enough (case aside), else empty.</returns>
    public static string DidYouMean(string name, IEnumerable<string> candidates) =>
        Closest(name, candidates) is { } best ? $" (did you mean {best}?)" : "";

    /// <returns>The closest candidate within a few edits (about a quarter of the name), or null.</returns>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        var lower = name.ToLowerInvariant();
        var best = candidates
            .Select(candidate => (candidate, distance: Distance(lower, candidate.ToLowerInvariant())))
            .DefaultIfEmpty((candidate: "", distance: int.MaxValue))
            .MinBy(x => x.distance);
        return best.distance <= Math.Max(2, name.Length / 4) ? best.candidate : null;
    }

    /// <summary>Levenshtein distance.</summary>
    public static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
