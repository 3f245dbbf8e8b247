from support.fixtures import other_school, other_teacher, own_school, own_teacher, school, server, teacher

__all__ = ["other_school", "other_teacher", "own_school", "own_teacher", "school", "server", "teacher"]
