"""Reusable Streamlit pieces: the pages compose these and call services_db; nothing here touches SQL."""
