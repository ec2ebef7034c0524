namespace BananaLab.Core.Moderation;

/// <summary>The <c>Moderation</c> section: extra blocked terms and how often admin term changes are picked up.</summary>
public sealed class ModerationOptions
{
    public const string Section = "Moderation";

    /// <summary>Extra whole words or phrases that block (category "custom"), on top of the built-in lists and admin terms.</summary>
    public List<string> BlockedTerms { get; set; } = [];

    /// <summary>
    /// How often admin term changes made by other processes are picked up when no change message reaches this
    /// one (this process sees its own at once, and every node of a Redis cluster is told at once).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3600, ErrorMessage = "Moderation:ReloadSeconds must be between 1 and 3600.")]
    public int ReloadSeconds { get; set; } = 30;
}
