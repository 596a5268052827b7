; Inno Setup script for Recap (run by packaging/build.py, which passes the defines below).
;   iscc /DAppVersion=0.1.0 /DSourceDir=packaging\dist\recap /DOutputDir=packaging\dist
;        /DOutputName=Recap-0.1.0-setup packaging\windows\recap.iss
; Per-user install by default (no admin prompt); Start-menu entry; "Open with Recap" for
; audio and video files.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\recap"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif
#ifndef OutputName
  #define OutputName "Recap-setup"
#endif

[Setup]
AppId={{6F1D3C1E-8E0B-4D5C-9A57-2E3B7C4A9D10}
AppName=Recap
AppVersion={#AppVersion}
AppPublisher=Recap developers
DefaultDirName={autopf}\Recap
DefaultGroupName=Recap
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename={#OutputName}
#ifdef IconFile
SetupIconFile={#IconFile}
#endif
UninstallDisplayIcon={app}\recap.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
; signtool is configured by the release workflow when a certificate is present:
; build.py passes RECAP_SIGNTOOL (a full signtool command ending in $f) as /Ssigntool=... /DSign=1
#ifdef Sign
SignTool=signtool
SignedUninstaller=yes
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Recap"; Filename: "{app}\recap.exe"; Parameters: "gui"
Name: "{group}\Uninstall Recap"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Recap"; Filename: "{app}\recap.exe"; Parameters: "gui"; Tasks: desktopicon

[Registry]
; The ProgID Recap registers, then "Open with" entries for each audio/video extension.
Root: HKA; Subkey: "Software\Classes\Recap.Recording"; ValueType: string; ValueName: ""; ValueData: "Recording (Recap)"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Recap.Recording\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\recap.exe,0"
Root: HKA; Subkey: "Software\Classes\Recap.Recording\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\recap.exe"" gui ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\recap.exe\SupportedTypes"; ValueType: string; ValueName: ".wav"; ValueData: ""; Flags: uninsdeletekey
#define Assoc(Ext) \
  "Root: HKA; Subkey: ""Software\Classes\" + Ext + "\OpenWithProgids""; ValueType: string; ValueName: ""Recap.Recording""; ValueData: """"; Flags: uninsdeletevalue"
#emit Assoc(".wav")
#emit Assoc(".mp3")
#emit Assoc(".m4a")
#emit Assoc(".aac")
#emit Assoc(".ogg")
#emit Assoc(".opus")
#emit Assoc(".flac")
#emit Assoc(".mp4")
#emit Assoc(".mov")
#emit Assoc(".mkv")

[Run]
Filename: "{app}\recap.exe"; Parameters: "gui"; Description: "{cm:LaunchProgram,Recap}"; Flags: nowait postinstall skipifsilent
