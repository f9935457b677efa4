"""The info panel's sections, one widget class and one kv rule each (ui/panels/<section>.py + .kv):

- base: the small widgets every section uses (PanelTitle, PanelText, PanelButton, PanelInput, PillSwitch),
  PanelSection, follow_language;
- backend: BackendSection, the server in use, its status, switching servers;
- model: ModelSection, the model picker, details and fit;
- chat: ChatSection, this chat's creation date, system prompt, options, thinking;
- profiles: ProfilesSection, saved profiles (apply, edit, delete, a model's default);
- models: ModelsSection, pull with progress, delete, suggested models, models in memory;
- dev: DevSection, DEV mode figures and chart;
- settings: SettingsSection, the interface's language.

ui/info_panel.py's InfoPanel composes them and keeps the panel's events and attributes for the app.
"""
