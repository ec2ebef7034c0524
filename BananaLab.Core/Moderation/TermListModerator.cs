using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Moderation;

public sealed class ModerationOptions
{
    public const string Section = "Moderation";

    /// <summary>Whole words or phrases that block a prompt (case- and accent-insensitive).</summary>
    public List<string> BlockedTerms { get; set; } = [];
}

/// <summary>
/// The starter moderator: blocks prompts containing a configured term as a whole word, after folding
/// case, accents and compatibility forms, so "Essex" never matches "sex".
/// </summary>
public sealed class TermListModerator : IPromptModerator
{
    private readonly Regex? _pattern;

    public TermListModerator(IOptions<ModerationOptions> options)
    {
        var terms = options.Value.BlockedTerms.Select(Normalize).Where(t => t.Length > 0).Distinct().ToList();
        if (terms.Count > 0)
        {
            var alternatives = string.Join("|", terms.Select(t => Regex.Escape(t).Replace("\\ ", "\\s+")));
            _pattern = new Regex($@"(?<![\p{{L}}\p{{N}}])(?:{alternatives})(?![\p{{L}}\p{{N}}])",
                RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
    }

    public ValueTask<ModerationDecision> ScreenAsync(ModerationRequest request, CancellationToken cancellationToken)
    {
        if (_pattern is null) return ValueTask.FromResult(ModerationDecision.Allow);
        var matched = _pattern.Matches(Normalize(request.Prompt + "\n" + request.NegativePrompt))
            .Select(m => "term:" + m.Value).Distinct().ToList();
        return ValueTask.FromResult(matched.Count == 0
            ? ModerationDecision.Allow
            : new ModerationDecision(false, ["custom"], matched));
    }

    internal static string Normalize(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormKD).ToLowerInvariant();
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) builder.Append(c);
        return builder.ToString().Trim();
    }
}
