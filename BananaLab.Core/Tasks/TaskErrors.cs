using BananaLab.Core.Errors;

namespace BananaLab.Core.Tasks;

/// <summary>
/// A failure: its <see cref="ErrorType"/> (stable code, kind, title), a short message a person can act on and the
/// field it concerns, if any: the engine's name for an engine error (a <see cref="SubmitTaskRequest"/> property),
/// or the name the caller sent for a field a dialect could not read.
/// </summary>
public sealed record TaskError(ErrorType Type, string Message)
{
    /// <summary>The stable machine-readable code, e.g. <c>model_not_found</c>.</summary>
    public string Code => Type.Code;

    /// <summary>What kind of failure it is; front ends map this, never <see cref="Code"/>.</summary>
    public ErrorKind Kind => Type.Kind;

    /// <summary>The field the error concerns; the type's own field unless set.</summary>
    public string? Field { get; init; } = Type.Field;

    /// <summary>For <c>moderation_blocked</c>: the stored decision its user may ask to have reviewed (native API only).</summary>
    public long? ModerationDecisionId { get; init; }

    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>The errors a submission or a run can end in, with their messages; their codes are listed in <see cref="ErrorTypes"/>.</summary>
public static class TaskErrors
{
    public static TaskError ModelRequired() => new(ErrorTypes.ModelRequired, "Choose a model.");
    public static TaskError ModelNotFound(string id) => new(ErrorTypes.ModelNotFound, $"There is no model named '{Trim(id)}'.");
    public static TaskError PromptRequired() => new(ErrorTypes.PromptRequired, "Enter a prompt describing the image.");
    public static TaskError PromptTooLong(int max) => new(ErrorTypes.PromptTooLong, $"The prompt is longer than {max} characters.");
    public static TaskError PromptTooLongForModel(string model, string field, int tokens, int limit) =>
        new(ErrorTypes.PromptTooLongForModel, $"The {field} is {tokens} tokens; the model '{model}' reads at most {limit}. Shorten it by {tokens - limit} token{(tokens - limit == 1 ? "" : "s")}.");
    public static TaskError CountOutOfRange(int max) => new(ErrorTypes.CountOutOfRange, $"The image count must be between 1 and {max} for this model.");
    public static TaskError SizeNotOffered(string model, string size, IEnumerable<string> offered) =>
        new(ErrorTypes.SizeNotOffered, $"The model '{model}' does not offer {size}; choose one of {string.Join(", ", offered)}.");
    public static TaskError InvalidSize(string detail) => new(ErrorTypes.InvalidSize, detail);
    public static TaskError InvalidAspectRatio(string value) =>
        new(ErrorTypes.InvalidAspectRatio, $"'{Trim(value)}' is not an offered aspect ratio; use 1:1, 4:3, 3:4, 16:9 or 9:16.");
    public static TaskError InvalidSteps(int max) => new(ErrorTypes.InvalidSteps, $"Steps must be between 1 and {max} for this model.");
    public static TaskError InvalidGuidance() => new(ErrorTypes.InvalidGuidance, "Guidance must be between 0 and 30.");
    public static TaskError InvalidSeed() => new(ErrorTypes.InvalidSeed, "The seed must be between 0 and 4294967295.");
    public static TaskError InvalidStrength() => new(ErrorTypes.InvalidStrength, "The reference strength must be between 0 and 1.");
    public static TaskError InvalidOutputFormat(string value) =>
        new(ErrorTypes.InvalidOutputFormat, $"'{Trim(value)}' is not an output format; use png, jpeg or webp.");
    public static TaskError InvalidWebhookUrl(string detail) => new(ErrorTypes.InvalidWebhookUrl, detail);
    public static TaskError ReferenceNotAccepted(string model) =>
        new(ErrorTypes.ReferenceNotAccepted, $"The model '{model}' does not take a reference image.");
    public static TaskError InvalidMask(string detail) => new(ErrorTypes.InvalidMask, detail);
    public static TaskError ReferenceImageMissing() => new(ErrorTypes.ReferenceImageMissing, "The reference image upload was empty.");
    public static TaskError ReferenceImageUnreadable(string detail) =>
        new(ErrorTypes.ReferenceImageUnreadable, $"The reference image could not be read: {detail}");
    public static TaskError ModerationBlocked() => new(ErrorTypes.ModerationBlocked, Moderation.ModerationDecision.NeutralMessage);
    public static TaskError InsufficientCredits(int needed, int balance) =>
        new(ErrorTypes.InsufficientCredits, $"This needs {needed} credits, balance is {balance}.");
    public static TaskError UserDisabled() => new(ErrorTypes.UserDisabled, "This account is disabled.");
    public static TaskError TaskNotFound() => new(ErrorTypes.TaskNotFound, "There is no such task.");
    public static TaskError ImageNotFound() => new(ErrorTypes.ImageNotFound, "There is no such image.");
    public static TaskError NotCancelable(GenerationTaskStatus status) =>
        new(ErrorTypes.NotCancelable, $"The task is already {status.ToString().ToLowerInvariant()} and cannot be canceled.");
    public static TaskError NotDeletable(GenerationTaskStatus status) =>
        new(ErrorTypes.NotDeletable, $"The task is still {status.ToString().ToLowerInvariant()}; cancel it first, then delete it.");

    /// <summary>A request that cannot be read as a whole, or a field of the wrong type (named by <paramref name="field"/>, as the caller sent it).</summary>
    public static TaskError InvalidRequest(string message, string? field = null) => new(ErrorTypes.InvalidRequest, message) { Field = field };

    // What a model's provider does not take (GenerationCapabilities), and a model no worker can run.
    public static TaskError ModelUnavailable(string model, string reason) =>
        new(ErrorTypes.ModelUnavailable, $"The model '{Trim(model)}' cannot run right now: {reason} Choose another model.");
    public static TaskError AspectRatioNotOffered(string model, string ratio, IEnumerable<string> offered) =>
        new(ErrorTypes.InvalidAspectRatio, $"The model '{model}' does not offer {ratio}; use {string.Join(", ", offered)}.");
    public static TaskError ExactSizeNotOffered(string model) =>
        new(ErrorTypes.InvalidSize, $"The model '{model}' makes tier sizes only: give size (1K, 2K or 4K) and aspectRatio instead of width and height.");
    public static TaskError StepsNotTaken(string model) => new(ErrorTypes.InvalidSteps, $"The model '{model}' takes no step count.");
    public static TaskError GuidanceNotTaken(string model) => new(ErrorTypes.InvalidGuidance, $"The model '{model}' takes no guidance scale.");
    public static TaskError SeedNotTaken(string model) => new(ErrorTypes.InvalidSeed, $"The model '{model}' takes no seed.");
    public static TaskError NegativePromptNotAccepted(string model) =>
        new(ErrorTypes.NegativePromptNotAccepted, $"The model '{model}' does not take a negative prompt.");

    // Run-time failures, stored on the task; their kinds are in ErrorTypes.
    public const string ProviderTimeout = "provider_timeout";
    public const string NoImage = "no_image";
    public const string GeneratorUnavailable = "generator_unavailable";
    public const string GenerationFailed = "generation_failed";
    public const string LeaseExpired = "lease_expired";
    public const string Canceled = "canceled";
    public const string OutputBlocked = "output_blocked";

    private static string Trim(string value) => value.Length > 60 ? value[..60] + "…" : value;
}
