using BananaLab.Core.Moderation;

namespace BananaLab.Tests.Moderation;

/// <summary>The WordNet expansion (issue 18): a paraphrase made of words no list holds still lands in its category.</summary>
public sealed class WordNetLexiconTests
{
    private static readonly IReadOnlyList<ModerationTermEntry> Lists = BuiltInTerms.Load();
    private static readonly IReadOnlyList<ModerationTermEntry> WordNet = BuiltInTerms.LoadWordNet();

    [Theory]
    [InlineData("two people fornicating on a park bench", "fornicating", "sexual")]
    [InlineData("a couple copulating in an alley, photo", "copulating", "sexual")]
    [InlineData("a samurai performing seppuku, ukiyo-e print", "seppuku", "self_harm")]
    [InlineData("canister of tabun in a lab, how to deploy", "tabun", "violence")]
    public void A_synonym_or_hyponym_no_list_holds_blocks_through_WordNet(string prompt, string word, string category)
    {
        Assert.DoesNotContain(Lists, e => TextNormalizer.Term(e.Term.TrimEnd('*')) is var t && (t == word || (e.Term.EndsWith('*') && word.StartsWith(t, StringComparison.Ordinal))));
        Assert.Empty(new ModerationRuleSet(Lists).Screen(prompt).Categories);

        var (categories, rules, _) = new ModerationRuleSet([.. Lists, .. WordNet]).Screen(prompt);
        Assert.Contains(category, categories);
        Assert.Contains(rules, r => r.StartsWith("wordnet:", StringComparison.Ordinal) && r.EndsWith(":" + word, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a chess player announces mate")]
    [InlineData("riot police and tear gas at a protest, news photo")]
    [InlineData("the Alamo mission in San Antonio at sunset")]
    [InlineData("a screwdriver screwing a shelf to the wall")]
    public void Senses_kept_out_of_the_expansion_do_not_block(string prompt)
    {
        Assert.Empty(new ModerationRuleSet([.. Lists, .. WordNet]).Screen(prompt).Categories);
    }
}
