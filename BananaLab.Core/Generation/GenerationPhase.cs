namespace BananaLab.Core.Generation;

/// <summary>
/// Where a task is on its way to stored images, in order. The wire name (<see cref="GenerationPhases.WireName"/>)
/// is the lowercase member name: <c>queued</c>, <c>denoising</c>, <c>upscaling</c>, <c>encoding</c>, <c>done</c>.
/// </summary>
public enum GenerationPhase
{
    /// <summary>Waiting for a worker.</summary>
    Queued,
    /// <summary>Claimed by a worker: encoding the prompt and running the denoising steps at the model's native size.</summary>
    Denoising,
    /// <summary>Decoding an image from its latents, framing it and enlarging it to the requested size.</summary>
    Upscaling,
    /// <summary>Encoding an image to its output format, checking it and storing it with the task.</summary>
    Encoding,
    /// <summary>Finished: succeeded (images stored), failed, canceled or blocked; the status says which.</summary>
    Done,
}

public static class GenerationPhases
{
    /// <summary>The stable lowercase name APIs and events carry.</summary>
    public static string WireName(this GenerationPhase phase) => phase switch
    {
        GenerationPhase.Queued => "queued",
        GenerationPhase.Denoising => "denoising",
        GenerationPhase.Upscaling => "upscaling",
        GenerationPhase.Encoding => "encoding",
        _ => "done",
    };
}
