using System.Text.Json.Nodes;
using BananaLab.Web.Api.Docs;

namespace BananaLab.Web.Api.Sessions;

/// <summary>The session interface's examples on the developers page: log in once, then use the session key.</summary>
public static class SessionExamples
{
    public static ApiDialectExamples Dialect { get; } = new(SessionApi.Name, "Session interface",
        "Trade the API key for a session bound to one model, submit jobs, then poll their progress, previews and result.",
        b =>
        [
            b.Json("Sign in for a session", "POST", "/login", new JsonObject { ["endpoint_name"] = b.Model, ["version"] = "1" }),
            b.Json("Submit a job", "POST", "/endpoint", new JsonObject
            {
                ["client_session_auth_key"] = "SESSION_KEY", ["prompt"] = ApiExampleBuilder.Prompt, ["num_inference_steps"] = 20,
                ["seed"] = 42, ["wait_for_result"] = false,
            }, bearer: false),
            b.Json("Poll its progress", "POST", "/endpoint/progress", new JsonObject
            {
                ["client_session_auth_key"] = "SESSION_KEY", ["job_id"] = "JOB_ID",
            }, bearer: false),
        ]);
}
