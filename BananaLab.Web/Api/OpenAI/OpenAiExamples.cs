using System.Text.Json.Nodes;
using BananaLab.Web.Api.Docs;

namespace BananaLab.Web.Api.OpenAI;

/// <summary>The OpenAI images API's examples on the developers page.</summary>
public static class OpenAiExamples
{
    public static ApiDialectExamples Dialect { get; } = new(OpenAiImagesApi.Name, "OpenAI images",
        "Compatible with OpenAI's images API, so OpenAI SDKs work by pointing their base URL at this server's /v1.",
        b =>
        [
            b.Json("Generate images", "POST", "/v1/images/generations", new JsonObject
            {
                ["model"] = b.Model, ["prompt"] = ApiExampleBuilder.Prompt, ["n"] = 1, ["size"] = "1024x1024", ["response_format"] = "b64_json",
            }),
            b.Multipart("Edit an image", "/v1/images/edits",
                [("model", b.Model), ("prompt", "the same banana, now in a spacesuit")], ("image", "reference.png")),
            b.Multipart("Make a variation of an image", "/v1/images/variations", [("model", b.Model), ("n", "2")], ("image", "reference.png")),
        ]);
}
