using BananaLab.Core.Data;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Comparisons;

/// <summary>
/// Compare mode (the studio's and <c>POST /api/v1/comparisons</c>): the same prompt and settings for 2–4 models. Creating
/// one is a single batch through the one submission path (<see cref="TaskService.SubmitBatchAsync"/>), so it is all or
/// nothing: validated, moderated, reserved and inserted in one transaction. After that each task lives on its own, and a
/// failing model releases only its own credits. A setting one of the models does not take refuses the whole comparison
/// (400, naming the setting and the model) rather than being dropped for that model.
/// </summary>
public sealed class ComparisonService(TaskService tasks, SubmissionValidator validator, IDbContextFactory<BananaLabDbContext> dbFactory)
{
    public const int MinModels = 2;
    public const int MaxModels = 4;

    /// <summary>
    /// The summed price of sending <paramref name="settings"/> to each of <paramref name="models"/>, exactly as
    /// <see cref="CreateAsync"/> would reserve it (pure: no database). Errors as <see cref="CreateAsync"/>'s for the model
    /// list, and each model's price error prefixed with the model's id.
    /// </summary>
    public Outcome<ComparisonQuote> Quote(SubmitTaskRequest settings, IReadOnlyList<string?>? models)
    {
        if (CheckModels(models) is { } invalid) return invalid;
        var quotes = new List<PriceQuote>(models!.Count);
        foreach (var model in models)
        {
            var quote = tasks.Quote(model, settings.Size, settings.ImageCount, settings.AspectRatio, settings.Width, settings.Height);
            if (!quote.Succeeded) return ForModel(model!.Trim(), quote.Error!);
            quotes.Add(quote.Value!);
        }
        return new ComparisonQuote(quotes);
    }

    /// <summary>
    /// Submits one task per model with the same settings (the model id is also each task's batch key), all or nothing.
    /// Errors: <c>invalid_request</c> (field <c>models</c>) for fewer than 2, more than 4, a blank or a repeated model; any
    /// error a single task gets, prefixed with the model it is about (a setting the model does not take, e.g.
    /// <c>invalid_seed</c> "The model 'x' takes no seed.", <c>count_out_of_range</c> "Model 'x': The image count must be between
    /// 1 and 1 for this model."); <c>insufficient_credits</c> naming the summed price; <c>moderation_blocked</c> with the
    /// neutral message (the blocked tasks are stored for the moderation review, as a single task's are).
    /// </summary>
    /// <param name="idempotencyRecordId">The request's <c>Idempotency-Key</c> claim, linked to the comparison's id in its transaction.</param>
    public async Task<Outcome<Comparison>> CreateAsync(Guid userId, SubmitTaskRequest settings, IReadOnlyList<string?>? models,
        CancellationToken cancellationToken, long? idempotencyRecordId = null)
    {
        if (CheckModels(models) is { } invalid) return invalid;
        var requests = models!.Select(m => settings with { ModelId = m!.Trim(), BatchKey = m.Trim() }).ToList();
        // Each model's own errors first, so the message names the model rather than an item number; an error every
        // model shares (a blank prompt) is about the settings, not a model, and reads as a single task's would.
        var errors = requests.Select(r => (Model: r.ModelId!, Error: validator.Validate(r).Error)).ToList();
        if (errors.FirstOrDefault(e => e.Error is not null) is { Error: { } first } failing)
            return errors.All(e => e.Error?.Message == first.Message) ? first : ForModel(failing.Model, first);

        var submitted = await tasks.SubmitBatchAsync(userId, requests, cancellationToken, idempotencyRecordId: idempotencyRecordId, comparison: true);
        // The models share the prompt, so a refusal is the comparison's, not one item's: the neutral message as it is.
        if (submitted.Error is { Kind: ErrorKind.RefusedByPolicy } refused)
            return TaskErrors.ModerationBlocked() with { ModerationDecisionId = refused.ModerationDecisionId };
        if (!submitted.Succeeded) return submitted.Error!;
        return new Comparison(submitted.Value!.BatchId!.Value, submitted.Value.Tasks);
    }

    /// <summary>
    /// A comparison of <paramref name="ownerId"/>'s, its tasks in the order the models were given, each with its live
    /// state; null when there is none, it is someone else's, or the owner deleted all its tasks.
    /// </summary>
    public async Task<Comparison?> GetAsync(Guid comparisonId, Guid ownerId, CancellationToken cancellationToken)
    {
        List<Guid> ids;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            ids = await db.Tasks.AsNoTracking()
                .Where(t => t.ComparisonId == comparisonId && t.UserId == ownerId && t.DeletedAt == null)
                .OrderBy(t => t.BatchIndex).Select(t => t.Id).ToListAsync(cancellationToken);
        var views = new List<TaskView>(ids.Count);
        foreach (var id in ids)
            if (await tasks.GetAsync(id, ownerId, cancellationToken) is { } view) views.Add(view);
        return views.Count == 0 ? null : new Comparison(comparisonId, views);
    }

    private static TaskError? CheckModels(IReadOnlyList<string?>? models)
    {
        if (models is null || models.Count < MinModels || models.Count > MaxModels)
            return TaskErrors.InvalidRequest($"Compare {MinModels} to {MaxModels} models: 'models' lists {models?.Count ?? 0}.", "models");
        if (models.Any(string.IsNullOrWhiteSpace)) return TaskErrors.InvalidRequest("Every entry of 'models' must name a model.", "models");
        var repeated = models.GroupBy(m => m!.Trim(), StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        return repeated is null ? null : TaskErrors.InvalidRequest($"'models' lists '{Shown(repeated.Key)}' more than once.", "models");
    }

    /// <summary>The error, naming the model it is about where its message does not already.</summary>
    private static TaskError ForModel(string model, TaskError error) =>
        error.Message.Contains($"'{model}'", StringComparison.Ordinal) ? error : error with { Message = $"Model '{Shown(model)}': {error.Message}" };

    /// <summary>A caller's model id as an error message quotes it: at most 100 characters.</summary>
    private static string Shown(string model) => model.Length > 100 ? model[..100] + "…" : model;
}
