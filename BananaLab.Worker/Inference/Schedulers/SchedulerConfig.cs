using System.Text.Json;

namespace BananaLab.Worker.Inference.Schedulers;

/// <summary>The fields of a diffusers <c>scheduler/scheduler_config.json</c> the schedulers use.</summary>
public sealed record SchedulerConfig
{
    public string ClassName { get; init; } = "DDIMScheduler";
    public int NumTrainTimesteps { get; init; } = 1000;
    public string BetaSchedule { get; init; } = "scaled_linear";
    public double BetaStart { get; init; } = 0.00085;
    public double BetaEnd { get; init; } = 0.012;
    public double[]? TrainedBetas { get; init; }
    /// <summary>epsilon, v_prediction or sample.</summary>
    public string PredictionType { get; init; } = "epsilon";
    /// <summary>leading, trailing or linspace.</summary>
    public string TimestepSpacing { get; init; } = "leading";
    public int StepsOffset { get; init; }
    public bool SetAlphaToOne { get; init; } = true;
    /// <summary>LCM: the schedule the model was distilled on.</summary>
    public int OriginalInferenceSteps { get; init; } = 50;
    public double TimestepScaling { get; init; } = 10.0;

    public static SchedulerConfig Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var defaults = new SchedulerConfig();
        string Text(string key, string fallback) =>
            root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : fallback;
        double Number(string key, double fallback) =>
            root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        bool Flag(string key, bool fallback) =>
            root.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
        double[]? trained = root.TryGetProperty("trained_betas", out var tb) && tb.ValueKind == JsonValueKind.Array
            ? tb.EnumerateArray().Select(e => e.GetDouble()).ToArray() : null;
        return new SchedulerConfig
        {
            ClassName = Text("_class_name", defaults.ClassName),
            NumTrainTimesteps = (int)Number("num_train_timesteps", defaults.NumTrainTimesteps),
            BetaSchedule = Text("beta_schedule", defaults.BetaSchedule),
            BetaStart = Number("beta_start", defaults.BetaStart),
            BetaEnd = Number("beta_end", defaults.BetaEnd),
            TrainedBetas = trained,
            PredictionType = Text("prediction_type", defaults.PredictionType),
            TimestepSpacing = Text("timestep_spacing", defaults.TimestepSpacing),
            StepsOffset = (int)Number("steps_offset", defaults.StepsOffset),
            SetAlphaToOne = Flag("set_alpha_to_one", defaults.SetAlphaToOne),
            OriginalInferenceSteps = (int)Number("original_inference_steps", defaults.OriginalInferenceSteps),
            TimestepScaling = Number("timestep_scaling", defaults.TimestepScaling),
        };
    }
}
