from django.apps import AppConfig


class XiaozhiboConfig(AppConfig):
    name = "xiaozhibo"
    verbose_name = "Xiaozhibo compatibility"
