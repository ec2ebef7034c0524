namespace BananaLab.Core.Tasks;

/// <summary>A failure with a stable machine-readable code and a short message a person can act on.</summary>
public sealed record TaskError(string Code, string Message)
{
    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>Every error a submission or a run can end in; codes are part of the public API and never change.</summary>
public static class TaskErrors
{
    public static TaskError ModelRequired() => new("model_required", "Choose a model.");
    public static TaskError ModelNotFound(string id) => new("model_not_found", $"There is no model named '{Trim(id)}'.");
    public static TaskError PromptRequired() => new("prompt_required", "Enter a prompt describing the image.");
    public static TaskError PromptTooLong(int max) => new("prompt_too_long", $"The prompt is longer than {max} characters.");
    public static TaskError CountOutOfRange(int max) => new("count_out_of_range", $"The image count must be between 1 and {max} for this model.");
    public static TaskError SizeNotOffered(string model, string size, IEnumerable<string> offered) =>
        new("size_not_offered", $"The model '{model}' does not offer {size}; choose one of {string.Join(", ", offered)}.");
    public static TaskError InvalidSize(string detail) => new("invalid_size", detail);
    public static TaskError InvalidAspectRatio(string value) =>
        new("invalid_aspect_ratio", $"'{Trim(value)}' is not an offered aspect ratio; use 1:1, 4:3, 3:4, 16:9 or 9:16.");
    public static TaskError InvalidSteps(int max) => new("invalid_steps", $"Steps must be between 1 and {max} for this model.");
    public static TaskError InvalidGuidance() => new("invalid_guidance", "Guidance must be between 0 and 30.");
    public static TaskError InvalidSeed() => new("invalid_seed", "The seed must be between 0 and 4294967295.");
    public static TaskError InvalidStrength() => new("invalid_strength", "The reference strength must be between 0 and 1.");
    public static TaskError InvalidOutputFormat(string value) =>
        new("invalid_output_format", $"'{Trim(value)}' is not an output format; use png, jpeg or webp.");
    public static TaskError InvalidWebhookUrl(string detail) => new("invalid_webhook_url", detail);
    public static TaskError ReferenceNotAccepted(string model) =>
        new("reference_not_accepted", $"The model '{model}' does not take a reference image.");
    public static TaskError ReferenceImageMissing() => new("reference_image_missing", "The reference image upload was empty.");
    public static TaskError ReferenceImageUnreadable(string detail) =>
        new("reference_image_unreadable", $"The reference image could not be read: {detail}");
    public static TaskError ModerationBlocked() => new("moderation_blocked", Moderation.ModerationDecision.NeutralMessage);
    public static TaskError InsufficientCredits(int needed, int balance) =>
        new("insufficient_credits", $"This needs {needed} credits, balance is {balance}.");
    public static TaskError UserDisabled() => new("user_disabled", "This account is disabled.");
    public static TaskError TaskNotFound() => new("task_not_found", "There is no such task.");
    public static TaskError ImageNotFound() => new("image_not_found", "There is no such image.");
    public static TaskError NotCancelable(GenerationTaskStatus status) =>
        new("not_cancelable", $"The task is already {status.ToString().ToLowerInvariant()} and cannot be canceled.");
    public static TaskError NotDeletable(GenerationTaskStatus status) =>
        new("not_deletable", $"The task is still {status.ToString().ToLowerInvariant()}; cancel it first, then delete it.");

    // What a model's provider does not take (GenerationCapabilities), and a model no worker can run.
    public static TaskError ModelUnavailable(string model, string reason) =>
        new("model_unavailable", $"The model '{Trim(model)}' cannot run right now: {reason} Choose another model.");
    public static TaskError AspectRatioNotOffered(string model, string ratio, IEnumerable<string> offered) =>
        new("invalid_aspect_ratio", $"The model '{model}' does not offer {ratio}; use {string.Join(", ", offered)}.");
    public static TaskError ExactSizeNotOffered(string model) =>
        new("invalid_size", $"The model '{model}' makes tier sizes only: give size (1K, 2K or 4K) and aspectRatio instead of width and height.");
    public static TaskError StepsNotTaken(string model) => new("invalid_steps", $"The model '{model}' takes no step count.");
    public static TaskError GuidanceNotTaken(string model) => new("invalid_guidance", $"The model '{model}' takes no guidance scale.");
    public static TaskError SeedNotTaken(string model) => new("invalid_seed", $"The model '{model}' takes no seed.");
    public static TaskError NegativePromptNotAccepted(string model) =>
        new("negative_prompt_not_accepted", $"The model '{model}' does not take a negative prompt.");

    // Run-time failures, stored on the task.
    public const string ProviderTimeout = "provider_timeout";
    public const string NoImageProduced = "no_image_produced";
    public const string GeneratorUnavailable = "generator_unavailable";
    public const string GenerationFailed = "generation_failed";
    public const string LeaseExpired = "lease_expired";
    public const string Canceled = "canceled";
    public const string OutputBlocked = "output_blocked";

    private static string Trim(string value) => value.Length > 60 ? value[..60] + "…" : value;
}
