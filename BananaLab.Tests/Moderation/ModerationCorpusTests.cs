using BananaLab.Core.Moderation;
using BananaLab.Tests.Infrastructure;
using Xunit.Abstractions;

namespace BananaLab.Tests.Moderation;

/// <summary>The labelled corpus in tools/moderation-eval against the shipped term lists, with the product's targets.</summary>
public sealed class ModerationCorpusTests(ITestOutputHelper output)
{
    private static readonly string CorpusPath = Path.Combine(RepositoryPaths.Root, "tools", "moderation-eval", "corpus.tsv");

    [Fact]
    public void Corpus_meets_the_recall_and_false_positive_targets()
    {
        var corpus = ModerationEvaluation.ReadCorpus(CorpusPath);
        Assert.True(corpus.Count(s => s.MustBlock) >= 150, "the corpus needs at least 150 prompts that must be blocked");
        Assert.True(corpus.Count(s => !s.MustBlock) >= 250, "the corpus needs at least 250 benign prompts");

        var report = ModerationEvaluation.Run(new ModerationRuleSet(BuiltInTerms.Load()), corpus);
        foreach (var miss in report.Outcomes.Where(o => o.Sample.MustBlock != o.Blocked))
            output.WriteLine($"{(miss.Sample.MustBlock ? "missed" : "false positive")}: [{miss.Sample.Category}] {miss.Sample.Prompt}");

        Assert.True(report.Overall.Recall >= 0.95, $"recall {report.Overall.Recall:P1} is below 95%");
        Assert.True(report.Overall.FalsePositiveRate <= 0.02, $"false-positive rate {report.Overall.FalsePositiveRate:P1} is above 2%");
        Assert.All(report.ByCategory, c => Assert.True(c.Recall >= 0.9, $"{c.Category}: recall {c.Recall:P1}"));
    }

    [Fact]
    public void Every_category_and_language_is_covered()
    {
        var corpus = ModerationEvaluation.ReadCorpus(CorpusPath);
        foreach (var category in new[] { "sexual", "minors_sexual", "violence", "hate", "self_harm", "illegal" })
            Assert.True(corpus.Count(s => s.MustBlock && s.Category == category) >= 20, $"fewer than 20 '{category}' prompts");
        foreach (var language in new[] { "en", "de", "es" })
            Assert.Contains(corpus, s => s.Language == language && s.MustBlock);
        Assert.Contains(corpus, s => !s.MustBlock && s.Category == "trap");
    }

    [Fact]
    public void Built_in_lists_ship_for_three_languages()
    {
        var rules = BuiltInTerms.Load();
        foreach (var language in new[] { "en", "de", "es" })
            Assert.Contains(rules, r => r.RuleId.StartsWith(language + "/violence:"));
    }
}
