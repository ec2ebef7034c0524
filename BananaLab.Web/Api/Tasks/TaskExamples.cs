using System.Text.Json.Nodes;
using BananaLab.Web.Api.Docs;

namespace BananaLab.Web.Api.Tasks;

/// <summary>The native API's examples on the developers page, attached to the task routes.</summary>
public static class TaskExamples
{
    public static ApiDialectExamples Dialect { get; } = new("native", "BananaLab API v1",
        "The native API: create a task, follow it, download its images. Answers 201 with the task; errors are RFC 7807 problems with a code.",
        b =>
        [
            b.Json("Create a task (JSON)", "POST", "/api/v1/tasks", new JsonObject
            {
                ["model"] = b.Model, ["prompt"] = ApiExampleBuilder.Prompt, ["size"] = "1K", ["aspectRatio"] = "1:1", ["count"] = 1,
            }),
            b.Multipart("Create a task with a reference image (multipart)", "/api/v1/tasks",
                [("model", b.Model), ("prompt", ApiExampleBuilder.Prompt), ("size", "1K")], ("referenceImage", "reference.png")),
            b.Get("Follow the task", "/api/v1/tasks/{id:guid}"),
            b.Get("List your tasks", "/api/v1/tasks", query: "?status=succeeded&page=1&pageSize=20"),
            b.Download("Download image 0", "/api/v1/tasks/{id:guid}/images/{index:int}", "banana.png"),
            b.Post("Cancel the task", "/api/v1/tasks/{id:guid}/cancel"),
            b.Delete("Delete a finished task and its images", "/api/v1/tasks/{id:guid}"),
        ]);
}
