using BananaLab.Core.Moderation;

namespace BananaLab.Tests.Moderation;

public sealed class LabelledPromptExportTests
{
    [Theory]
    [InlineData("a cat with the red hat on a sofa", "en")]
    [InlineData("eine Katze mit einem roten Hut auf dem Sofa", "de")]
    [InlineData("un niño con una pelota en el jardín", "es")]
    [InlineData("un chat avec des lunettes sur la fenêtre", "fr")]
    [InlineData("una gatta con il cappello della nonna", "it")]
    [InlineData("um gato com um chapéu na janela", "pt")]
    [InlineData("een kat met een hoed op het dak", "nl")]
    [InlineData("kot w kapeluszu na dachu się bawi", "pl")]
    [InlineData("кошка в шляпе на крыше", "ru")]
    [InlineData("帽子をかぶった猫", "ja")]
    [InlineData("猫", "und")]
    [InlineData("g.o.r.e", "und")]
    public void Guesses_the_language_from_script_letters_and_function_words(string prompt, string expected) =>
        Assert.Equal(expected, LabelledPromptExport.GuessLanguage(prompt));

    [Fact]
    public void Flattening_turns_tabs_line_breaks_and_runs_of_space_into_one_space()
    {
        Assert.Equal("a b c d", LabelledPromptExport.Flatten("  a\tb\r\n\nc \u0085 d \n"));
    }

    [Theory]
    [InlineData(false, "violence", ModerationReviewVerdict.ShouldHavePassed, null, "allow", "violence")]
    [InlineData(false, "violence,hate", ModerationReviewVerdict.Correct, null, "block", "violence")]
    [InlineData(true, "", ModerationReviewVerdict.Correct, null, "allow", "other")]
    [InlineData(true, "", ModerationReviewVerdict.ShouldHaveBlocked, "self_harm", "block", "self_harm")]
    [InlineData(true, "", ModerationReviewVerdict.ShouldHaveBlocked, null, "block", "other")]
    public void A_mark_becomes_its_label_and_category(bool allowed, string categories, ModerationReviewVerdict verdict, string? chosen,
        string label, string category)
    {
        var row = LabelledPromptExport.Label("the prompt", allowed, categories, verdict, chosen);
        Assert.Equal((label, category), (row.Label, row.Category));
    }
}
