using System.ComponentModel.DataAnnotations;

namespace BananaLab.Core.Webhooks;

public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Networks (CIDR) webhooks may reach even though they are private, e.g. "127.0.0.1/32" in tests.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>Keep retrying a failing delivery for this long after the event.</summary>
    [Range(1, 24 * 30, ErrorMessage = "Webhooks:MaxAgeHours must be between 1 and 720.")]
    public int MaxAgeHours { get; set; } = 24;

    /// <summary>The first retry waits this long; each further one twice as long (capped at an hour).</summary>
    [Range(1, 3600, ErrorMessage = "Webhooks:BaseDelaySeconds must be between 1 and 3600.")]
    public int BaseDelaySeconds { get; set; } = 10;

    [Range(1, 120, ErrorMessage = "Webhooks:TimeoutSeconds must be between 1 and 120.")]
    public int TimeoutSeconds { get; set; } = 10;

    [Range(10, 60_000, ErrorMessage = "Webhooks:PollIntervalMs must be between 10 and 60000.")]
    public int PollIntervalMs { get; set; } = 1000;

    /// <summary>
    /// This server's address as webhook receivers reach it, for the image links in payloads (e.g. behind a proxy that
    /// rewrites the host). Empty (the default): the origin of the request that created the task, else the server's own address.
    /// </summary>
    public string PublicBaseUrl { get; set; } = "";
}
