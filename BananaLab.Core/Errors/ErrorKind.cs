namespace BananaLab.Core.Errors;

/// <summary>
/// What kind of failure an error is. Every front end maps kinds, never codes: the web layer to an HTTP status
/// (once, in <c>ApiProblems.StatusFor</c>), each API dialect to its own envelope, the studio to its message.
/// </summary>
public enum ErrorKind
{
    /// <summary>The request as a whole cannot be read: a malformed body, a wrong type, a missing part.</summary>
    InvalidRequest,
    /// <summary>One field has a value the engine refuses; <see cref="Tasks.TaskError.Field"/> names it.</summary>
    InvalidField,
    /// <summary>No valid API key (or session key) came with the call.</summary>
    Unauthorized,
    /// <summary>The caller's credits do not cover the price.</summary>
    PaymentRequired,
    /// <summary>The caller is known but may not do this (a disabled account, a missing role).</summary>
    Forbidden,
    /// <summary>What the call names does not exist, or is not the caller's.</summary>
    NotFound,
    /// <summary>The address exists but not for this HTTP method.</summary>
    MethodNotAllowed,
    /// <summary>The thing is in a state that does not allow this (already finished, key reused).</summary>
    Conflict,
    /// <summary>The request body is larger than the server takes.</summary>
    TooLarge,
    /// <summary>The body is in a format this address does not read.</summary>
    UnsupportedMediaType,
    /// <summary>The address cannot answer in any media type the caller's <c>Accept</c> header takes.</summary>
    NotAcceptable,
    /// <summary>Moderation refused the prompt or the image.</summary>
    RefusedByPolicy,
    /// <summary>The caller is over its rate limit.</summary>
    RateLimited,
    /// <summary>Something the call needs (a model's files, the shared store) cannot be reached right now.</summary>
    Unavailable,
    /// <summary>The work did not finish within its time.</summary>
    Timeout,
    /// <summary>The generation ran and ended without images.</summary>
    Failed,
    /// <summary>The task was canceled before it produced its images.</summary>
    Canceled,
    /// <summary>A fault of the server itself.</summary>
    Unexpected,
}
