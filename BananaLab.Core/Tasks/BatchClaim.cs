namespace BananaLab.Core.Tasks;

/// <summary>
/// How much one claim may take (issue 17, adaptive batching across tasks). The oldest claimable task is always taken;
/// when its model is in <see cref="BatchableModels"/> and it is text-to-image, younger queued tasks that can share its
/// denoising calls join it, oldest first, while the images of all taken tasks stay within <see cref="MaxImages"/>.
/// Tasks can share a call when they have the same model (hence the same native latent size and scheduler), the same
/// step count, no reference image, and both use classifier-free guidance or both do not (guidance itself may differ
/// per task: it is applied per row after the call).
/// </summary>
/// <param name="MaxImages">Most images (UNet rows before guidance doubles them) one claim takes; 1 = one task at a time.</param>
/// <param name="BatchableModels">Models whose generator shares its calls across tasks; empty = none does.</param>
public sealed record BatchClaim(int MaxImages, IReadOnlyList<string> BatchableModels)
{
    /// <summary>One task per claim: what a worker without batching, and every remote model, gets.</summary>
    public static BatchClaim Single { get; } = new(1, []);
}
