using System.Text.Json.Nodes;
using BananaLab.Web.Api.Docs;

namespace BananaLab.Web.Api.FastDeploy;

/// <summary>fastDeploy's examples on the developers page.</summary>
public static class FastDeployExamples
{
    public static ApiDialectExamples Dialect { get; } = new(FastDeployApi.Name, "fastDeploy",
        "One prediction per input: /sync answers inline, /async returns a unique_id (and can call a webhook), /result polls it.",
        b =>
        [
            b.Json("Predict and wait", "POST", "/sync", new JsonObject
            {
                ["model"] = b.Model, ["data"] = new JsonArray(ApiExampleBuilder.Prompt, "a banana wearing a top hat, studio photo"),
                ["params"] = new JsonObject { ["size"] = "1K" },
            }),
            b.Json("Start in the background", "POST", "/async", new JsonObject
            {
                ["model"] = b.Model, ["data"] = new JsonArray(ApiExampleBuilder.Prompt), ["webhook"] = "https://example.com/bananalab-hook",
            }),
            b.Json("Fetch the result", "POST", "/result", new JsonObject { ["unique_id"] = "UNIQUE_ID" }),
        ]);
}
