using System.ComponentModel.DataAnnotations;
using BananaLab.Web.Api.Dialects;

namespace BananaLab.Web.Api.Banana;

/// <summary>Banana v4's own waits, in seconds; the keys sit in the <c>Api</c> section beside the settings every dialect shares.</summary>
public sealed class BananaOptions
{
    public const string Section = ApiOptions.Section;

    /// <summary>How long <c>/start/v4</c> waits for the result unless <c>startOnly</c>.</summary>
    [Range(0, 300, ErrorMessage = "Api:BananaStartWaitSeconds must be between 0 and 300.")]
    public int BananaStartWaitSeconds { get; set; } = 60;

    /// <summary>How long <c>/check/v4</c> with <c>longPoll</c> waits for the call to finish.</summary>
    [Range(0, 300, ErrorMessage = "Api:BananaCheckWaitSeconds must be between 0 and 300.")]
    public int BananaCheckWaitSeconds { get; set; } = 50;
}
