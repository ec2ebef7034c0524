using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Tasks;

/// <summary>Validation, moderation and pricing through the one TaskService, with the worker off.</summary>
public sealed class TaskSubmissionTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    private const string Model = BananaLabFactory.TestModel;
    private TaskService Tasks => factory.Services.GetRequiredService<TaskService>();

    public static TheoryData<string, SubmitTaskRequest> InvalidRequests => new()
    {
        { "model_required", new() { Prompt = "a cat" } },
        { "model_not_found", new() { ModelId = "no-such-model", Prompt = "a cat" } },
        { "prompt_required", new() { ModelId = Model, Prompt = "   " } },
        { "prompt_too_long", new() { ModelId = Model, Prompt = new string('a', 4001) } },
        { "count_out_of_range", new() { ModelId = Model, Prompt = "a cat", ImageCount = 0 } },
        { "count_out_of_range", new() { ModelId = Model, Prompt = "a cat", ImageCount = 5 } },
        { "size_not_offered", new() { ModelId = Model, Prompt = "a cat", Size = "4K" } },
        { "invalid_size", new() { ModelId = Model, Prompt = "a cat", Size = "8K" } },
        { "invalid_size", new() { ModelId = Model, Prompt = "a cat", Width = 32, Height = 512 } },
        { "invalid_size", new() { ModelId = Model, Prompt = "a cat", Width = 512 } },
        { "invalid_aspect_ratio", new() { ModelId = Model, Prompt = "a cat", AspectRatio = "2:1" } },
        { "invalid_steps", new() { ModelId = Model, Prompt = "a cat", Steps = 0 } },
        { "invalid_guidance", new() { ModelId = Model, Prompt = "a cat", Guidance = 31 } },
        { "invalid_seed", new() { ModelId = Model, Prompt = "a cat", Seed = -1 } },
        { "invalid_output_format", new() { ModelId = Model, Prompt = "a cat", OutputFormat = "gif" } },
        { "invalid_strength", new() { ModelId = Model, Prompt = "a cat", ReferenceImage = new(ScriptedGenerator.TinyPng), ReferenceStrength = 2 } },
        { "reference_image_missing", new() { ModelId = Model, Prompt = "a cat", ReferenceImage = new([]) } },
        { "reference_image_unreadable", new() { ModelId = Model, Prompt = "a cat", ReferenceImage = new("GIF89a-not-accepted-here"u8.ToArray()) } },
        { "reference_image_unreadable", new() { ModelId = Model, Prompt = "a cat", ReferenceImage = new(ScriptedGenerator.TinyPng[..20]) } },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_requests_are_refused_with_their_code_and_change_nothing(string code, SubmitTaskRequest request)
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        var before = await SnapshotAsync(user.Id);

        var outcome = await Tasks.SubmitAsync(user.Id, request, CancellationToken.None);

        Assert.Equal(code, outcome.Error?.Code);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Error?.Message));
        Assert.Equal(before, await SnapshotAsync(user.Id));
    }

    [Fact]
    public async Task Reference_image_is_refused_by_a_model_that_takes_none()
    {
        var (user, _) = await factory.CreateUserAsync();
        var outcome = await Tasks.SubmitAsync(user.Id, new SubmitTaskRequest
        {
            ModelId = BananaLabFactory.TextOnlyModel, Prompt = "a cat", ReferenceImage = new(ScriptedGenerator.TinyPng),
        }, CancellationToken.None);
        Assert.Equal("reference_not_accepted", outcome.Error?.Code);
    }

    [Fact]
    public async Task Moderation_block_stores_a_blocked_task_and_charges_nothing()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);

        var outcome = await Tasks.SubmitAsync(user.Id, new SubmitTaskRequest { ModelId = Model, Prompt = "Extreme GORE scene" }, CancellationToken.None);

        Assert.Equal("moderation_blocked", outcome.Error?.Code);
        Assert.Equal("This prompt can't be generated. Please revise it and try again.", outcome.Error?.Message);
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var task = await db.Tasks.SingleAsync(t => t.UserId == user.Id);
        Assert.Equal(GenerationTaskStatus.Blocked, task.Status);
        Assert.Equal(0, task.CreditsReserved);
        Assert.False(await db.CreditEntries.AnyAsync(e => e.UserId == user.Id && e.Kind != CreditEntryKind.Grant));
        Assert.Equal(100, await db.Users.Where(u => u.Id == user.Id).Select(u => u.CreditBalance).SingleAsync());
    }

    [Fact]
    public async Task Innocent_words_containing_a_blocked_term_pass()
    {
        var (user, _) = await factory.CreateUserAsync();
        var outcome = await Tasks.SubmitAsync(user.Id, new SubmitTaskRequest { ModelId = Model, Prompt = "a gorestone castle in Essex" }, CancellationToken.None);
        Assert.True(outcome.Succeeded, outcome.Error?.ToString());
    }

    [Fact]
    public async Task Submission_reserves_the_price_and_reports_its_queue_position()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);

        var first = (await Tasks.SubmitAsync(user.Id, new() { ModelId = Model, Prompt = "one", Size = "2K", ImageCount = 2 }, default)).Value!;
        var second = (await Tasks.SubmitAsync(user.Id, new() { ModelId = Model, Prompt = "two", AspectRatio = "16:9" }, default)).Value!;

        Assert.Equal(20, first.Task.CreditsReserved);
        Assert.Equal((2048, 2048), (first.Task.Width, first.Task.Height));
        Assert.Equal((1024, 576), (second.Task.Width, second.Task.Height));
        Assert.True(second.QueuePosition > first.QueuePosition);
        Assert.Equal(75, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task Explicit_pixel_sizes_are_priced_at_the_covering_tier()
    {
        var quote = Tasks.Quote(Model, null, 1, width: 1500, height: 700);
        Assert.Equal(SizeTier.TwoK, quote.Value!.Tier);
        Assert.Equal(10, quote.Value.Total);
    }

    private async Task<(int Tasks, int Entries, int Balance)> SnapshotAsync(Guid userId)
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return (await db.Tasks.CountAsync(t => t.UserId == userId),
            await db.CreditEntries.CountAsync(e => e.UserId == userId),
            await db.Users.Where(u => u.Id == userId).Select(u => u.CreditBalance).SingleAsync());
    }
}
