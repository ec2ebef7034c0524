using BananaLab.Core.Moderation;

namespace BananaLab.Tests.Moderation;

/// <summary>Normalisation and each rule kind, on a small explicit rule set.</summary>
public sealed class ModerationRuleSetTests
{
    private static readonly ModerationRuleSet Rules = new(
    [
        new("sexual", "sex", "t:sex"), new("sexual", "porn*", "t:porn"), new("sexual", "cock", "t:cock"),
        new("violence", "rape", "t:rape"), new("violence", "rapist", "t:rapist"), new("violence", "kill", "t:kill"),
        new("violence", "decapitat*", "t:decap"), new("illegal", "make meth", "t:meth"),
        new("sexual_soft", "nude", "t:nude"), new("sexual_soft", "lingerie", "t:lingerie"),
        new("minors", "child", "t:child"), new("minors", "kid", "t:kid"),
        new("allow", "kill the lights", "a:lights"), new("allow", "classical nude sculpture", "a:sculpture"),
    ]);

    [Theory]
    [InlineData("sex")]
    [InlineData("SEX")]
    [InlineData("ｓｅｘ")] // full-width: NFKC
    [InlineData("séx")] // diacritics
    [InlineData("sеx")] // Cyrillic е
    [InlineData("ѕех")] // all Cyrillic look-alikes
    [InlineData("s3x")] // leetspeak
    [InlineData("$ex")]
    [InlineData("s.e.x")] // separators inside the word
    [InlineData("s e x")] // spaced letters
    [InlineData("s-e-x")]
    [InlineData("s_e_x")]
    [InlineData("seeeex")] // repeated letters
    [InlineData("s\u200Bex")] // zero-width space
    [InlineData("s\u200De\u200Dx")] // zero-width joiners
    [InlineData("k1ll him")]
    [InlineData("k!ll him")]
    [InlineData("decapitated statue")] // stem term
    [InlineData("pornographic")]
    [InlineData("how to make   meth at home")] // phrase with odd spacing
    public void Obfuscated_terms_are_found(string prompt)
    {
        var (categories, rules, _) = Rules.Screen(prompt);
        Assert.NotEmpty(categories);
        Assert.NotEmpty(rules);
    }

    [Theory]
    [InlineData("a castle in Essex")]
    [InlineData("Middlesex county map")]
    [InlineData("a cocktail on the beach")]
    [InlineData("a therapist's office")]
    [InlineData("a bunch of grapes")]
    [InlineData("Scunthorpe railway station")]
    [InlineData("kill the lights in the studio")]
    [InlineData("classical nude sculpture in a museum")]
    [InlineData("a child flying a kite")]
    [InlineData("lingerie catalogue photo of a woman")]
    [InlineData("skill tree of a video game")]
    [InlineData("kidney beans in a bowl")]
    [InlineData("the year 2024 in numbers")]
    [InlineData("wow! a sunset")]
    public void Innocent_prompts_pass(string prompt)
    {
        var (categories, rules, _) = Rules.Screen(prompt);
        Assert.Empty(categories);
        Assert.Empty(rules);
    }

    [Theory]
    [InlineData("nude child")]
    [InlineData("kid in lingerie")]
    [InlineData("n.u.d.e k1d")]
    public void A_minor_term_with_a_sexual_term_blocks_though_each_alone_passes(string prompt)
    {
        var (categories, rules, _) = Rules.Screen(prompt);
        Assert.Contains(ModerationRuleSet.MinorsSexual, categories);
        Assert.Contains(rules, r => r.StartsWith("t:"));
    }

    [Fact]
    public void Findings_name_the_rule_and_the_normalised_text()
    {
        var (categories, rules, normalized) = Rules.Screen("Some S.E.X here");
        Assert.Equal(["sexual"], categories);
        Assert.Equal(["t:sex"], rules);
        Assert.Equal("some s e x here", normalized);
    }
}
