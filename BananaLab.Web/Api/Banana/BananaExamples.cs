using System.Text.Json.Nodes;
using BananaLab.Web.Api.Docs;

namespace BananaLab.Web.Api.Banana;

/// <summary>Banana v4's examples on the developers page: the key travels in the body.</summary>
public static class BananaExamples
{
    public static ApiDialectExamples Dialect { get; } = new(BananaApi.Name, "Banana v4",
        "Banana's REST API: /start/v4 waits up to a minute and returns a callID if the image is not ready; poll /check/v4 with it. The key goes in the body.",
        b =>
        [
            b.Json("Start a call", "POST", "/start/v4", new JsonObject
            {
                ["apiKey"] = b.Key, ["modelKey"] = b.Model, ["startOnly"] = false,
                ["modelInputs"] = new JsonObject { ["prompt"] = ApiExampleBuilder.Prompt, ["size"] = "1K", ["num_images"] = 1, ["seed"] = 42 },
            }, bearer: false),
            b.Json("Check a call", "POST", "/check/v4", new JsonObject
            {
                ["apiKey"] = b.Key, ["callID"] = "CALL_ID", ["longPoll"] = true,
            }, bearer: false),
        ]);
}
