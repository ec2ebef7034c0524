using System.Text.Json.Nodes;
using BananaLab.Web.Api.Docs;

namespace BananaLab.Web.Api.BentoML;

/// <summary>The BentoML-style endpoint's example on the developers page.</summary>
public static class BentoMLExamples
{
    public static ApiDialectExamples Dialect { get; } = new(BentoMLApi.Name, "BentoML /generate",
        "One call that answers with the image itself; ask for accept: application/json to get base64 and the seed instead.",
        b =>
        [
            b.Json("Generate and save the image", "POST", "/generate", new JsonObject
            {
                ["model"] = b.Model, ["prompt"] = ApiExampleBuilder.Prompt, ["width"] = 1024, ["height"] = 1024,
                ["num_inference_steps"] = 20, ["guidance_scale"] = 3,
            }, accept: "image/png", output: "banana.png"),
        ]);
}
