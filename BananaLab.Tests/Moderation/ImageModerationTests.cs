using BananaLab.Core.Data;
using BananaLab.Core.Moderation;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using SkiaSharp;

namespace BananaLab.Tests.Moderation;

/// <summary>
/// The ONNX image-classifier plumbing, with a tiny committed test model that scores redness
/// (tools/test-models/make_redness_classifier.py): red references and red outputs are refused.
/// </summary>
public sealed class ImageModerationTests(ImageModerationTests.ClassifierFactory factory) : IClassFixture<ImageModerationTests.ClassifierFactory>
{
    public sealed class ClassifierFactory : BananaLabFactory
    {
        protected override IDictionary<string, string?> Settings => RednessClassifier;

        /// <summary>The committed redness classifier as the image classifier (red outputs and references are refused).</summary>
        public static Dictionary<string, string?> RednessClassifier => new()
        {
            ["Moderation:ImageClassifier:Path"] = Path.Combine(AppContext.BaseDirectory, "Moderation", "Data", "redness.onnx"),
            ["Moderation:ImageClassifier:InputWidth"] = "32",
            ["Moderation:ImageClassifier:InputHeight"] = "32",
            ["Moderation:ImageClassifier:Mean:0"] = "0", ["Moderation:ImageClassifier:Mean:1"] = "0", ["Moderation:ImageClassifier:Mean:2"] = "0",
            ["Moderation:ImageClassifier:Std:0"] = "1", ["Moderation:ImageClassifier:Std:1"] = "1", ["Moderation:ImageClassifier:Std:2"] = "1",
            ["Moderation:ImageClassifier:Labels:0"] = "safe",
            ["Moderation:ImageClassifier:Labels:1"] = "red",
            ["Moderation:ImageClassifier:Thresholds:red"] = "0.8",
        };
    }

    [Fact]
    public async Task A_reference_the_classifier_refuses_blocks_the_submission_and_charges_nothing()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);
        var red = Convert.ToBase64String(ScriptedGenerator.RedPng);
        var blue = Convert.ToBase64String(ScriptedGenerator.SolidPng(new SKColor(20, 40, 220)));

        var refused = await client.PostAsync("/api/v1/tasks", Json($"{{\"model\":\"test-model\",\"prompt\":\"like this\",\"referenceImage\":\"{red}\"}}"));
        var accepted = await client.PostAsync("/api/v1/tasks", Json($"{{\"model\":\"test-model\",\"prompt\":\"like this\",\"referenceImage\":\"{blue}\"}}"));

        Assert.Equal("moderation_blocked", (await refused.ReadJsonAsync()).GetProperty("code").GetString());
        Assert.Equal(System.Net.HttpStatusCode.Created, accepted.StatusCode);
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var imageDecisions = await db.Set<ModerationDecisionRecord>().Where(r => r.UserId == user.Id && r.Subject == "reference_image")
            .OrderBy(r => r.Id).ToListAsync();
        Assert.Equal([false, true], imageDecisions.Select(d => d.Allowed));
        Assert.Equal("red", imageDecisions[0].Categories);
        Assert.Contains("red=0.9", imageDecisions[0].Note);
        // Only the accepted submission reserved credits (what happens to its output is another test's business).
        var reserves = await db.CreditEntries.Where(e => e.UserId == user.Id && e.Kind == BananaLab.Core.Credits.CreditEntryKind.Reserve).ToListAsync();
        Assert.Equal(5, Assert.Single(reserves).Credits);
    }

    [Fact]
    public async Task An_output_the_classifier_refuses_fails_the_task_and_releases_its_credits()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "a red square [red]" })).Id);

        Assert.Equal("failed", done.Status);
        Assert.Equal("output_blocked", done.Error?.Code);
        Assert.Equal(ModerationDecision.NeutralMessage, done.Error?.Message);
        Assert.Empty(done.Images);
        var credits = await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync();
        Assert.Equal(50, credits.GetProperty("balance").GetInt32());
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        Assert.True(await db.Set<ModerationDecisionRecord>().AnyAsync(r => r.TaskId == done.Id && r.Subject == "output_image" && !r.Allowed));
    }

    [Fact]
    public async Task Without_a_classifier_the_decision_record_says_so()
    {
        var decision = await new NoImageClassifier().CheckAsync(ScriptedGenerator.RedPng, default);
        Assert.True(decision.Allowed);
        Assert.Equal("no image classifier is configured", decision.Note);
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
