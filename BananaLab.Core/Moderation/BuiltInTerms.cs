namespace BananaLab.Core.Moderation;

/// <summary>
/// The term lists shipped with the product (<c>Moderation/Terms/&lt;lang&gt;/&lt;category&gt;.txt</c>, embedded in
/// this assembly): one term or phrase a line, <c>#</c> starts a comment.
/// </summary>
public static class BuiltInTerms
{
    private const string Prefix = "Moderation/Terms/";

    public static IReadOnlyList<ModerationTermEntry> Load()
    {
        var assembly = typeof(BuiltInTerms).Assembly;
        var entries = new List<ModerationTermEntry>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            // Moderation/Terms/en/violence.txt
            var parts = name[Prefix.Length..].Split('/');
            if (parts.Length != 2 || !parts[1].EndsWith(".txt", StringComparison.Ordinal)) continue;
            var (language, category) = (parts[0], parts[1][..^4]);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            while (reader.ReadLine() is { } line)
            {
                var term = line.Trim();
                if (term.Length == 0 || term.StartsWith('#')) continue;
                entries.Add(new ModerationTermEntry(category, term, $"{language}/{category}:{term}"));
            }
        }
        return entries;
    }
}
