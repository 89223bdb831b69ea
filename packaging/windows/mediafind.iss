; Inno Setup script: a per-user installer for the PyInstaller bundle in dist\mediafind.
;
;   python packaging\make_icons.py                 (build\icons\mediafind.ico)
;   pyinstaller --distpath dist packaging\mediafind.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\mediafind.iss
;
; The release workflow passes AppVersion from the package (mediafind.__version__). Writes
; dist\mediafind-VERSION-windows-x64-setup.exe. No administrator rights: the app goes to
; %LOCALAPPDATA%\Programs\mediafind, its Start-menu entry to the user's Start menu.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\mediafind.iss
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\mediafind"
#endif

[Setup]
; The AppId ties upgrades and the uninstaller together: never change it.
AppId={{12DE3DC0-6EB7-43F1-9B6E-9A182FEBAEC3}
AppName=mediafind
AppVersion={#AppVersion}
AppVerName=mediafind {#AppVersion}
AppPublisher=The mediafind developers
AppPublisherURL=https://github.com/mediafind/mediafind
AppSupportURL=https://github.com/mediafind/mediafind/issues
; Per-user: no UAC prompt, {autopf} is %LOCALAPPDATA%\Programs and {autoprograms} the user's
; Start menu. No override, so the uninstaller always knows where things are.
PrivilegesRequired=lowest
DefaultDirName={autopf}\mediafind
DisableProgramGroupPage=yes
DisableDirPage=auto
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Windows 10 1809 or later: what Qt 6 and the torch wheels support.
MinVersion=10.0.17763
OutputDir=..\..\dist
OutputBaseFilename=mediafind-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\build\icons\mediafind.ico
UninstallDisplayIcon={app}\mediafind.exe
UninstallDisplayName=mediafind
WizardStyle=modern
; About 850 MB, most of it torch's library: LZMA2 in one solid block compresses it to about a
; third; "max" rather than "ultra64" keeps the build to a few minutes.
Compression=lzma2/max
SolidCompression=yes
; An upgrade or the uninstaller closes a running mediafind (through the Restart Manager) instead
; of failing on files in use, and starts it again after an upgrade.
CloseApplications=yes
RestartApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: files a newer PyInstaller or torch no longer ships must
; not linger beside the new ones (a stale DLL would be loaded instead of the new one).
Type: filesandordirs; Name: "{app}\_internal"

[Files]
; mediafind.exe (the window) and mediafind-cli.exe (the commands, --self-test) share _internal.
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\mediafind"; Filename: "{app}\mediafind.exe"; Comment: "Find your photos and notes by what they show and say"
Name: "{autodesktop}\mediafind"; Filename: "{app}\mediafind.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\mediafind.exe"; Description: "{cm:LaunchProgram,mediafind}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Python never writes into the bundle, but a crashed start can leave PyInstaller's temporary
; files there; the folder goes entirely.
Type: filesandordirs; Name: "{app}"

[Code]
{ The library (the index of the user's photos and notes) and the settings live outside the app
  folder, where mediafind/config.py puts them through platformdirs:
    %LOCALAPPDATA%\mediafind\mediafind             settings.toml, library\, Cache\, Logs\
  and the library may have been moved elsewhere by the `library` setting. The uninstaller asks
  whether to keep them (the default: a reinstall finds everything as it was); a silent uninstall
  keeps them. The photos and notes themselves are never touched. }

function AppDataDir(): String;
begin
  Result := ExpandConstant('{localappdata}\mediafind\mediafind');
end;

{ TOML basic string to text: enough for what tomli_w writes for a path (\\ and \"). }
function UnescapeToml(S: String): String;
var
  I: Integer;
begin
  Result := '';
  I := 1;
  while I <= Length(S) do
  begin
    if (S[I] = '\') and (I < Length(S)) then
      I := I + 1;
    Result := Result + S[I];
    I := I + 1;
  end;
end;

{ The library folder: MEDIAFIND_LIBRARY, else `library = "..."` in settings.toml, else the
  default inside the app data folder. }
function LibraryDir(): String;
var
  Lines: TArrayOfString;
  I, Q1, Q2: Integer;
  Line: String;
begin
  Result := GetEnv('MEDIAFIND_LIBRARY');
  if Result <> '' then
    Exit;
  if LoadStringsFromFile(AppDataDir() + '\settings.toml', Lines) then
    for I := 0 to GetArrayLength(Lines) - 1 do
    begin
      Line := Trim(Lines[I]);
      if (Pos('library', Line) = 1) and (Pos('=', Line) > 0) then
      begin
        Line := Trim(Copy(Line, Pos('=', Line) + 1, Length(Line)));
        Q1 := Pos('"', Line);
        Q2 := Length(Line);
        if (Q1 = 1) and (Q2 > 1) and (Line[Q2] = '"') then
          Result := UnescapeToml(Copy(Line, 2, Q2 - 2));
      end;
    end;
  if Result = '' then
    Result := AppDataDir() + '\library';
end;

procedure RemoveLibrary(Dir: String);
var
  Found: TFindRec;
begin
  { Only the library's own files (database, journal, lock, migration backups): the setting may
    name a folder that holds other things too. }
  if FindFirst(Dir + '\library.sqlite3*', Found) then
  try
    repeat
      DeleteFile(Dir + '\' + Found.Name);
    until not FindNext(Found);
  finally
    FindClose(Found);
  end;
  RemoveDir(Dir);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  LibDir: String;
begin
  if CurUninstallStep <> usPostUninstall then
    Exit;
  LibDir := LibraryDir();
  if not DirExists(LibDir) and not DirExists(AppDataDir()) then
    Exit;
  if UninstallSilent() then
    Exit;
  if MsgBox('Keep your mediafind library and settings?' + #13#10#13#10 +
            'The library is the index of your photos and notes, in:' + #13#10 + LibDir +
            #13#10#13#10 + 'Keep it to find everything as it was after installing mediafind ' +
            'again. Your photos and notes themselves are not touched either way.',
            mbConfirmation, MB_YESNO or MB_DEFBUTTON1) = IDNO then
  begin
    RemoveLibrary(LibDir);
    { Settings, the default library's folder, caches and logs. }
    DelTree(AppDataDir(), True, True, True);
    RemoveDir(ExpandConstant('{localappdata}\mediafind'));
  end;
end;
