using MudBlazor;

namespace BananaLab.Web.Components.Layout;

/// <summary>The studio's colours: banana yellow on warm neutrals, with a matching dark palette.</summary>
public static class BananaTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#7a5c00",
            PrimaryContrastText = "#ffffff",
            Secondary = "#5d6470",
            Tertiary = "#f5c518",
            AppbarBackground = "#f5c518",
            AppbarText = "#2b2100",
            Background = "#fbfaf6",
            Surface = "#ffffff",
            DrawerBackground = "#fffdf5",
            Success = "#2e7d32",
            Error = "#c62828",
            Warning = "#b26a00",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#f5c518",
            PrimaryContrastText = "#1d1600",
            Secondary = "#a8b0bd",
            Tertiary = "#f5c518",
            AppbarBackground = "#1f1d17",
            AppbarText = "#f5c518",
            Background = "#15140f",
            Surface = "#1f1d17",
            DrawerBackground = "#1a1913",
            Success = "#66bb6a",
            Error = "#ef5350",
            Warning = "#ffb74d",
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "10px" },
    };
}
