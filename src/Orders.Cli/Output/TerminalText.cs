using System.Globalization;
using System.Text;

namespace Orders.Cli.Output;

/// <summary>Text that came from a record (a header, a key, a decoded field), made safe to print on a terminal.</summary>
internal static class TerminalText
{
    /// <summary>
    /// The text with its control characters written as <c>\u001b</c>: anyone who can write to a topic
    /// could otherwise clear or rewrite the reader's screen with an escape sequence. Tabs stay, and line
    /// ends when <paramref name="keepLineEnds"/> (a stack trace spans lines).
    /// </summary>
    public static string Printable(string text, bool keepLineEnds = false)
    {
        if (!text.Any(c => Escaped(c, keepLineEnds)))
        {
            return text;
        }

        var printable = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (Escaped(c, keepLineEnds))
            {
                printable.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                printable.Append(c);
            }
        }

        return printable.ToString();
    }

    private static bool Escaped(char c, bool keepLineEnds) => char.IsControl(c) && c != '\t' && !(keepLineEnds && c is '\n' or '\r');
}
