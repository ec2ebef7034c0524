namespace BananaLab.Core.Webhooks;

/// <summary>
/// The origin (<c>scheme://host[:port][/path base]</c>) of the request submitting a task right now, stored with the task
/// so that its webhook's image links point at the address the client used. Web hosts read it from the current HTTP
/// request; elsewhere (a worker process, a background job) there is none.
/// </summary>
public interface ISubmissionOrigin
{
    /// <summary>The current request's origin, or null when there is no request (or it is longer than <see cref="SubmissionOrigin.MaxLength"/>).</summary>
    string? Current { get; }
}

public static class SubmissionOrigin
{
    /// <summary>The longest origin stored with a task (characters).</summary>
    public const int MaxLength = 500;
}

/// <summary>No request, no origin: hosts without HTTP.</summary>
public sealed class NoSubmissionOrigin : ISubmissionOrigin
{
    public string? Current => null;
}
