using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;

namespace BananaLab.Core.Errors;

/// <summary>
/// Every error code the public API answers or stores, with its kind: the one list. The README's tables of codes are
/// checked against <see cref="OfRequests"/> and <see cref="OfRuns"/> by a test, so neither can drift.
/// </summary>
public static class ErrorTypes
{
    private const string InvalidRequestTitle = "Invalid request";

    // A submission's fields (the engine validates them the same way for every entry point).
    public static readonly ErrorType ModelRequired = new("model_required", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.ModelId));
    public static readonly ErrorType ModelNotFound = new("model_not_found", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.ModelId));
    public static readonly ErrorType PromptRequired = new("prompt_required", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.Prompt));
    public static readonly ErrorType PromptTooLong = new("prompt_too_long", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.Prompt));
    public static readonly ErrorType PromptTooLongForModel = new("prompt_too_long_for_model", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.Prompt));
    public static readonly ErrorType CountOutOfRange = new("count_out_of_range", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.ImageCount));
    public static readonly ErrorType SizeNotOffered = new("size_not_offered", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.Size));
    public static readonly ErrorType InvalidSize = new("invalid_size", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.Size));
    public static readonly ErrorType InvalidAspectRatio = new("invalid_aspect_ratio", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.AspectRatio));
    public static readonly ErrorType InvalidSteps = new("invalid_steps", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.Steps));
    public static readonly ErrorType InvalidGuidance = new("invalid_guidance", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.Guidance));
    public static readonly ErrorType InvalidSeed = new("invalid_seed", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.Seed));
    public static readonly ErrorType InvalidOutputFormat = new("invalid_output_format", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.OutputFormat));
    public static readonly ErrorType InvalidStrength = new("invalid_strength", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.ReferenceStrength));
    public static readonly ErrorType InvalidWebhookUrl = new("invalid_webhook_url", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.WebhookUrl));
    public static readonly ErrorType InvalidMask = new("invalid_mask", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.MaskImage));
    public static readonly ErrorType NegativePromptNotAccepted = new("negative_prompt_not_accepted", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.NegativePrompt));
    public static readonly ErrorType ReferenceNotAccepted = new("reference_not_accepted", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.ReferenceImage));
    public static readonly ErrorType ReferenceImageMissing = new("reference_image_missing", ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.ReferenceImage));
    /// <summary>At submission (the file is refused) and at run time (the model cannot decode it).</summary>
    public static readonly ErrorType ReferenceImageUnreadable = new(GenerationErrors.ReferenceImageUnreadable, ErrorKind.InvalidField, InvalidRequestTitle, nameof(SubmitTaskRequest.ReferenceImage));
    public static readonly ErrorType ModerationBlocked = new("moderation_blocked", ErrorKind.RefusedByPolicy, "Prompt refused", nameof(SubmitTaskRequest.Prompt));
    public static readonly ErrorType InsufficientCredits = new("insufficient_credits", ErrorKind.PaymentRequired, "Not enough credits");
    public static readonly ErrorType UserDisabled = new("user_disabled", ErrorKind.Forbidden, "Account disabled");

    // Tasks and their images.
    public static readonly ErrorType TaskNotFound = new("task_not_found", ErrorKind.NotFound, "Not found");
    public static readonly ErrorType ImageNotFound = new("image_not_found", ErrorKind.NotFound, "Not found");
    public static readonly ErrorType NotCancelable = new("not_cancelable", ErrorKind.Conflict, "Cannot cancel");
    public static readonly ErrorType NotDeletable = new("not_deletable", ErrorKind.Conflict, "Cannot delete yet");
    /// <summary>A synchronous call's wait ended before the task did; it goes on.</summary>
    public static readonly ErrorType StillRunning = new("still_running", ErrorKind.Timeout, "Still generating");

    // The request itself, its caller and the server.
    public static readonly ErrorType InvalidRequest = new("invalid_request", ErrorKind.InvalidRequest, InvalidRequestTitle);
    public static readonly ErrorType BodyTooLarge = new("body_too_large", ErrorKind.TooLarge, InvalidRequestTitle);
    public static readonly ErrorType UnsupportedMediaType = new("unsupported_media_type", ErrorKind.UnsupportedMediaType, "Unsupported Media Type");
    public static readonly ErrorType NotAcceptable = new("not_acceptable", ErrorKind.NotAcceptable, "Not Acceptable");
    public static readonly ErrorType NotFound = new("not_found", ErrorKind.NotFound, "Not Found");
    public static readonly ErrorType MethodNotAllowed = new("method_not_allowed", ErrorKind.MethodNotAllowed, "Method Not Allowed");
    public static readonly ErrorType Unauthorized = new("unauthorized", ErrorKind.Unauthorized, "Unauthorized");
    public static readonly ErrorType Forbidden = new("forbidden", ErrorKind.Forbidden, "Forbidden");
    public static readonly ErrorType RateLimited = new("rate_limited", ErrorKind.RateLimited, "Too many requests");
    public static readonly ErrorType InvalidIdempotencyKey = new("invalid_idempotency_key", ErrorKind.InvalidRequest, InvalidRequestTitle);
    public static readonly ErrorType IdempotencyKeyReused = new("idempotency_key_reused", ErrorKind.Conflict, "Conflict");
    public static readonly ErrorType IdempotencyKeyInProgress = new("idempotency_key_in_progress", ErrorKind.Conflict, "Conflict");
    public static readonly ErrorType KeyNotFound = new("key_not_found", ErrorKind.NotFound, "Not found");
    public static readonly ErrorType InvalidTerm = new("invalid_term", ErrorKind.InvalidField, InvalidRequestTitle);
    public static readonly ErrorType TermNotFound = new("term_not_found", ErrorKind.NotFound, "Not found");
    public static readonly ErrorType DecisionNotFound = new("decision_not_found", ErrorKind.NotFound, "Not found");
    public static readonly ErrorType ReviewAlreadyRequested = new("review_already_requested", ErrorKind.Conflict, "Conflict");
    public static readonly ErrorType InvalidReview = new("invalid_review", ErrorKind.InvalidField, InvalidRequestTitle);
    public static readonly ErrorType LinkExpired = new("link_expired", ErrorKind.NotFound, "Not found");
    /// <summary>The studio's sign-out form came without a valid antiforgery token.</summary>
    public static readonly ErrorType Antiforgery = new("antiforgery", ErrorKind.InvalidRequest, InvalidRequestTitle);
    public static readonly ErrorType SharedStateUnavailable = new("shared_state_unavailable", ErrorKind.Unavailable, "Temporarily unavailable");
    public static readonly ErrorType Unexpected = new("error", ErrorKind.Unexpected, "An error occurred while processing your request.");

    // Why a run ended without images, stored on the task (its ErrorCode) and reported by every dialect.
    public static readonly ErrorType ProviderTimeout = new(TaskErrors.ProviderTimeout, ErrorKind.Timeout, "The model took too long");
    public static readonly ErrorType NoImage = new(TaskErrors.NoImage, ErrorKind.Failed, "No image produced");
    public static readonly ErrorType GeneratorUnavailable = new(TaskErrors.GeneratorUnavailable, ErrorKind.Unavailable, "Model not available");
    public static readonly ErrorType ModelUnavailable = new(GenerationErrors.ModelUnavailable, ErrorKind.Unavailable, "Model unavailable", nameof(SubmitTaskRequest.ModelId));
    public static readonly ErrorType GenerationFailed = new(TaskErrors.GenerationFailed, ErrorKind.Failed, "Generation failed");
    public static readonly ErrorType LeaseExpired = new(TaskErrors.LeaseExpired, ErrorKind.Failed, "The worker stopped responding");
    public static readonly ErrorType BlockedByProvider = new(GenerationErrors.BlockedByProvider, ErrorKind.RefusedByPolicy, "Refused by the provider");
    public static readonly ErrorType ProviderAuthFailed = new(GenerationErrors.ProviderAuthFailed, ErrorKind.Unavailable, "The provider refused our credentials");
    public static readonly ErrorType ProviderRateLimited = new(GenerationErrors.ProviderRateLimited, ErrorKind.Unavailable, "The provider is busy");
    public static readonly ErrorType ProviderError = new(GenerationErrors.ProviderError, ErrorKind.Unavailable, "The provider failed");
    public static readonly ErrorType OutputBlocked = new(TaskErrors.OutputBlocked, ErrorKind.RefusedByPolicy, "Image refused");
    public static readonly ErrorType Canceled = new(TaskErrors.Canceled, ErrorKind.Canceled, "Canceled");

    /// <summary>The codes a request can be answered with.</summary>
    public static IReadOnlyList<ErrorType> OfRequests { get; } =
    [
        ModelRequired, ModelNotFound, PromptRequired, PromptTooLong, PromptTooLongForModel, CountOutOfRange, SizeNotOffered, InvalidSize, InvalidAspectRatio,
        InvalidSteps, InvalidGuidance, InvalidSeed, InvalidOutputFormat, InvalidStrength, InvalidWebhookUrl, ReferenceNotAccepted, InvalidMask,
        NegativePromptNotAccepted, ReferenceImageMissing, ReferenceImageUnreadable, ModelUnavailable, ModerationBlocked, InsufficientCredits, UserDisabled,
        TaskNotFound, ImageNotFound, NotCancelable, NotDeletable, StillRunning,
        InvalidRequest, BodyTooLarge, UnsupportedMediaType, NotAcceptable, NotFound, MethodNotAllowed, Unauthorized, Forbidden, RateLimited,
        InvalidIdempotencyKey, IdempotencyKeyReused, IdempotencyKeyInProgress, KeyNotFound, InvalidTerm, TermNotFound, DecisionNotFound,
        ReviewAlreadyRequested, InvalidReview, LinkExpired,
        Antiforgery, SharedStateUnavailable, Unexpected,
    ];

    /// <summary>The codes a task that ended without images stores (and its credits are released).</summary>
    public static IReadOnlyList<ErrorType> OfRuns { get; } =
    [
        ProviderTimeout, NoImage, GeneratorUnavailable, ModelUnavailable, GenerationFailed, LeaseExpired, OutputBlocked, Canceled,
        BlockedByProvider, ProviderAuthFailed, ProviderRateLimited, ProviderError,
        ReferenceImageUnreadable,
    ];

    /// <summary>Every code, each once.</summary>
    public static IReadOnlyList<ErrorType> All { get; } = OfRequests.Union(OfRuns).ToList();

}
