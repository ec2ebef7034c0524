using System.Text.Json;
using Microsoft.JSInterop;

namespace BananaLab.Web.Pages.Studio;

/// <summary>
/// The studio form's last values in the browser's local storage, kept per account (<c>bananaLab.saveStudioForm</c>
/// and <c>loadStudioForm</c> in app.js), so a reload brings them back and another account on the same browser never
/// sees them. Writes only when the values changed since the last load or save. One per page instance.
/// </summary>
public sealed class StudioFormStorage(IJSRuntime js, Guid userId)
{
    private string? _stored;

    /// <summary>The values saved on this browser for this account; null when there are none or they cannot be read.</summary>
    public async Task<SavedStudioForm?> LoadAsync()
    {
        var json = await js.InvokeAsync<string?>("bananaLab.loadStudioForm", userId);
        if (json is null) return null;
        try
        {
            var saved = JsonSerializer.Deserialize<SavedStudioForm>(json);
            _stored = json;
            return saved;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async Task SaveAsync(StudioForm form)
    {
        var json = JsonSerializer.Serialize(form.Save());
        if (json == _stored) return;
        _stored = json;
        await js.InvokeVoidAsync("bananaLab.saveStudioForm", userId, json);
    }
}
